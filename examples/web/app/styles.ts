/** The demo page's stylesheet. @module */
export const STYLES = `
:root { font: 15px/1.45 system-ui, sans-serif; color: #1f2328; background: #f4f1ea; }
body { margin: 0 auto; max-width: 980px; padding: 24px; }
header h1 { margin: 0 0 4px; font-size: 26px; color: #4a2f7a; }
header p { margin: 0 0 20px; color: #57606a; }
main { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; }
.panel { background: #fff; border-radius: 10px; padding: 14px 18px; box-shadow: 0 1px 3px #0002; }
.panel h2 { margin: 0 0 10px; font-size: 17px; color: #4a2f7a; }
.wide { grid-column: 1 / -1; }
.catalog { display: grid; grid-template-columns: repeat(3, 1fr); gap: 12px; }
.category h3 { margin: 0 0 6px; font-size: 15px; }
.category ul, .recommendations, .guestbook, #feed { margin: 0; padding-left: 18px; }
.finished { color: #8c959f; font-size: 12px; }
.price { color: #1a7f37; font-weight: 600; }
.placeholder { color: #8c959f; font-style: italic; }
.error-card { margin: 0; padding: 8px 12px; border-radius: 6px; background: #ffebe9; color: #a40e26; }
.guestbook .text { font-family: ui-monospace, monospace; font-size: 13px; }
#feed-status { margin: 0 0 6px; font-size: 13px; color: #57606a; }
#feed .feed-item.history { color: #57606a; }
#feed time { font-family: ui-monospace, monospace; color: #8250df; }
`;
