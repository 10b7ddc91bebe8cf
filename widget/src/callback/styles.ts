import { css } from 'lit';

/** `<parley-callback>`'s own styles (after `controlStyles`; constructable, CSP-friendly). */
export const callbackStyles = css`
  :host {
    display: block;
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
