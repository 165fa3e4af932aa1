// Browser APIs that @grafana/ui expects and jsdom lacks.
import '@testing-library/jest-dom';
import { TextDecoder, TextEncoder } from 'util';
import { MessageChannel } from 'worker_threads';

// react-dom/server (used by @grafana/ui) needs MessageChannel at import time.
Object.assign(global, { TextDecoder, TextEncoder, MessageChannel: global.MessageChannel ?? MessageChannel });

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
