import { css } from 'lit';

/** Adopted as a constructable stylesheet (no inline <style>, CSP-friendly). */
export const styles = css`
  :host {
    --_success: var(--parley-success, #146c2e);
    --_success-text: var(--parley-success-text, #fff);
    display: block;
    font-size: var(--parley-font-size, 1.25rem);
  }
  .phone {
    box-sizing: border-box;
    max-width: 26rem;
    margin: 0 auto;
    padding: 1rem;
    display: flex;
    flex-direction: column;
    gap: 1rem;
  }
  .card {
    background: var(--_bg);
    border: 1px solid var(--_border);
    border-radius: var(--_radius);
    padding: 1rem;
    display: flex;
    flex-direction: column;
    gap: 0.75rem;
  }
  h1,
  h2 {
    margin: 0;
    font-size: 1.25em;
  }
  label {
    display: flex;
    flex-direction: column;
    gap: 0.25rem;
  }
  input {
    font: inherit;
    padding: 0.5rem;
    border: 1px solid var(--_border);
    border-radius: var(--_radius);
  }
  .muted {
    color: var(--_muted);
  }
  .error {
    color: var(--_danger);
    margin: 0;
  }
  .caller {
    font-size: 1.6em;
    font-weight: 600;
    overflow-wrap: anywhere;
  }
  .pad {
    display: grid;
    grid-template-columns: repeat(3, 1fr);
    gap: 0.5rem;
  }
  .pad button {
    font-size: 1.4em;
    background: transparent;
    color: var(--_text);
    border-color: var(--_border);
  }
  button.answer {
    background: var(--_success);
    color: var(--_success-text);
  }
  .actions {
    display: flex;
    gap: 0.5rem;
  }
  .actions button {
    flex: 1;
  }
`;
