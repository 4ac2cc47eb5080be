import { useLayoutEffect, useState, type MutableRef } from 'preact/hooks';

/**
 * The element's inner width in whole CSS pixels, kept current by a ResizeObserver. Measured in a
 * layout effect, so a canvas sized from it is drawn in the same task as the first render.
 */
export function useWidth(ref: MutableRef<HTMLElement | null>): number {
  const [width, setWidth] = useState(0);
  useLayoutEffect(() => {
    const el = ref.current!;
    const ro = new ResizeObserver(() => setWidth(Math.floor(el.clientWidth)));
    ro.observe(el);
    setWidth(Math.floor(el.clientWidth));
    return () => ro.disconnect();
  }, []);
  return width;
}
