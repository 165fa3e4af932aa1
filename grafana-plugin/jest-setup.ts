// Browser APIs that @grafana/ui expects and jsdom lacks.
import '@testing-library/jest-dom';
import { TextDecoder, TextEncoder } from 'util';

Object.assign(global, { TextDecoder, TextEncoder });

// react-dom/server (imported by @grafana/ui) needs MessageChannel at import
// time; node's own keeps the event loop alive, so a timer-based one is used.
class ShimPort {
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  peer?: ShimPort;
  postMessage(data: unknown) {
    const peer = this.peer;
    setTimeout(() => peer?.onmessage?.({ data }), 0);
  }
  start() {}
  close() {}
  addEventListener() {}
  removeEventListener() {}
}
class ShimMessageChannel {
  port1 = new ShimPort();
  port2 = new ShimPort();
  constructor() {
    this.port1.peer = this.port2;
    this.port2.peer = this.port1;
  }
}
if (typeof global.MessageChannel === 'undefined') {
  Object.assign(global, { MessageChannel: ShimMessageChannel });
}

if (!window.matchMedia) {
  Object.defineProperty(window, 'matchMedia', {
    writable: true,
    value: (query: string) => ({
      matches: false,
      media: query,
      onchange: null,
      addListener: () => {},
      removeListener: () => {},
      addEventListener: () => {},
      removeEventListener: () => {},
      dispatchEvent: () => false,
    }),
  });
}

class NoopResizeObserver {
  observe() {}
  unobserve() {}
  disconnect() {}
}
Object.assign(global, { ResizeObserver: global.ResizeObserver ?? NoopResizeObserver });
