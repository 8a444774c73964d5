// Runs in vitest's Node process before the browser project: nothing yet.
export default function setup(): void {}
