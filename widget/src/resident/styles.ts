import { css } from 'lit';

/** Adopted as a constructable stylesheet (no inline <style>, CSP-friendly). */
export const styles = css`
  :host {
    --_accent: var(--parley-accent, #0b57d0);
    --_accent-text: var(--parley-accent-text, #fff);
    --_success: var(--parley-success, #146c2e);
    --_success-text: var(--parley-success-text, #fff);
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
    font-size: var(--parley-font-size, 1.25rem);
    color: var(--_text);
    line-height: 1.4;
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
