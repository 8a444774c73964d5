// The compliance suite over the in-process endpoints.
import { expose } from '../../src/session.ts';
import { memoryEndpointPair } from '../../src/memory.ts';
import { complianceHandlers } from '../compliance/handlers.ts';
import { complianceSuite } from '../compliance/suite.ts';
import { ComplianceError } from '../compliance/handlers.ts';

const HOSTILE = { v: 1, f: [{ t: 'items', s: 424242, p: [1], b: 1, polluted: true }] };

complianceSuite({
  name: 'an in-memory endpoint pair',
  hostile: HOSTILE,
  async connect() {
    const [a, b] = memoryEndpointPair();
    const server = expose(complianceHandlers(), a, { errorClasses: [ComplianceError] });
    return { endpoint: b, cut: () => b.cut(), dispose: () => server.close() };
  },
});

complianceSuite({
  name: 'a MessageChannel',
  hostile: HOSTILE,
  async connect() {
    const { port1, port2 } = new MessageChannel();
    const server = expose(complianceHandlers(), port1, { errorClasses: [ComplianceError] });
    return {
      endpoint: port2,
      // Closing one port is what a dying context does to a channel: Node reports it on the other port.
      cut: () => port1.close(),
      dispose: () => {
        server.close();
        port2.close();
      },
    };
  },
});

complianceSuite({
  name: 'an in-memory text wire (superjson)',
  hostile: '{"v":1,"f":[{"t":"call","id":0,"m":"x","a":[{}],"r":[[[0,"__proto__"],"it",0]]}]}',
  async connect() {
    const [a, b] = memoryEndpointPair({ wire: 'text' });
    const server = expose(complianceHandlers(), a, { errorClasses: [ComplianceError] });
    return { endpoint: b, cut: () => b.cut(), dispose: () => server.close() };
  },
});
