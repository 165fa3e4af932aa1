// @grafana/ui icons load SVGs asynchronously through react-inlinesvg, which
// updates state outside act() in jsdom; tests need no icon artwork.
import type { Ref } from 'react';

export default function InlineSVG({ src, innerRef, cacheRequests: _c, preProcessor: _p, ...rest }: { src: string; innerRef?: Ref<SVGSVGElement>; cacheRequests?: boolean; preProcessor?: unknown }) {
  return <svg id={src} ref={innerRef} {...rest} />;
}
