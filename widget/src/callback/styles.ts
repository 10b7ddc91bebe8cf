import { css } from 'lit';

/** `<parley-callback>`'s own styles (after `controlStyles`; constructable, CSP-friendly). */
export const callbackStyles = css`
  :host {
    --_accent: var(--parley-accent, #0b57d0);
    --_accent-text: var(--parley-accent-text, #fff);
    --_danger: var(--parley-danger, #b3261e);
    --_danger-text: var(--parley-danger-text, #fff);
    --_bg: var(--parley-background, #fff);
    --_text: var(--parley-text, #1f1f1f);
    --_muted: var(--parley-muted-text, #5f6368);
    --_border: var(--parley-border, #c4c7c5);
    --_radius: var(--parley-radius, 0.5rem);
    --_focus: var(--parley-focus, #0b57d0);
    display: block;
    font-family: var(--parley-font, system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif);
    font-size: var(--parley-font-size, 1rem);
    color: var(--_text);
    line-height: 1.4;
    max-width: var(--parley-width, 20rem);
  }
  form,
  fieldset {
    display: flex;
    flex-direction: column;
    gap: 0.5rem;
    margin: 0;
  }
  fieldset {
    border: 1px solid var(--_border);
    border-radius: var(--_radius);
    padding: 0.5rem;
  }
  button,
  input,
  select {
    font: inherit;
  }
  input,
  select {
    padding: 0.5rem;
    border: 1px solid var(--_border);
    border-radius: var(--_radius);
    background: var(--_bg);
    color: var(--_text);
  }
  input[type='tel'] {
    flex: 1;
    min-width: 0;
  }
  input[type='radio'],
  input[type='checkbox'] {
    padding: 0;
  }
  input[aria-invalid='true'] {
    border-color: var(--_danger);
  }
  .field-error {
    color: var(--_danger);
    margin: 0;
  }
  .status {
    margin: 0;
  }
  .status.failed {
    color: var(--_danger);
  }
  .consent {
    color: var(--_muted);
  }
`;
