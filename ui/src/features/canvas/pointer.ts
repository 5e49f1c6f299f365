// Where the pointer is on the canvas, in flow coordinates, for whatever places nodes "here" (paste,
// the context menu) without the canvas putting every pointer move through a store.
type Point = { x: number; y: number };

let locate: () => Point | null = () => null;

export function pointerInFlow(): Point | null {
  return locate();
}

/** The canvas registers how to find the pointer; returns the unregistering function. */
export function registerPointer(locator: () => Point | null): () => void {
  locate = locator;
  return () => {
    if (locate === locator) locate = () => null;
  };
}
