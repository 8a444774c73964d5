import { expect, test } from 'vitest';
test('browser project runs in chromium', () => { expect(navigator.userAgent).toContain('Chrome'); });
