import type { ReactiveController, ReactiveControllerHost } from 'lit';

/** A host without a DOM: an EventTarget with Lit's controller-host methods. */
export class FakeHost extends EventTarget implements ReactiveControllerHost {
  isConnected = true;
  updates = 0;
  readonly events: { type: string; detail: unknown; bubbles: boolean; composed: boolean }[] = [];
  addController(_controller: ReactiveController): void {}
  removeController(_controller: ReactiveController): void {}
  requestUpdate(): void {
    this.updates++;
  }
  get updateComplete(): Promise<boolean> {
    return Promise.resolve(true);
  }
  override dispatchEvent(event: Event): boolean {
    const { type, bubbles, composed } = event;
    this.events.push({ type, detail: (event as CustomEvent).detail, bubbles, composed });
    return super.dispatchEvent(event);
  }
}
