import { css } from 'lit';

/** Adopted as a constructable stylesheet (no inline <style>, CSP-friendly). */
export const styles = css`
  :host {
    display: inline-block;
  }

  .panel {
    display: flex;
    flex-direction: column;
    gap: 0.5rem;
    max-width: var(--parley-width, 20rem);
  }
  .panel.open {
    padding: 0.75rem;
    background: var(--_bg);
    border: 1px solid var(--_border);
    border-radius: var(--_radius);
    box-shadow: var(--parley-shadow, 0 1px 3px rgb(0 0 0 / 0.15));
  }
  .status {
    margin: 0;
  }

  .timer {
    font-variant-numeric: tabular-nums;
    color: var(--_muted);
    margin-inline-end: auto;
  }
  button,
  input {
    font: inherit;
  }

  button.secondary[aria-pressed='true'] {
    background: var(--_text);
    color: var(--_bg);
  }

  .keypad {
    display: grid;
    grid-template-columns: repeat(3, 1fr);
    gap: 0.25rem;
  }
  .keypad button {
    padding: 0.5rem;
  }
  .chat {
    display: flex;
    flex-direction: column;
    gap: 0.5rem;
  }
  .log {
    list-style: none;
    margin: 0;
    padding: 0;
    max-height: 12rem;
    overflow-y: auto;
  }
  .log:empty {
    display: none;
  }

  form {
    display: flex;
    gap: 0.5rem;
  }
  input {
    flex: 1;
    min-width: 0;
    padding: 0.5rem;
    border: 1px solid var(--_border);
    border-radius: var(--_radius);
    background: var(--_bg);
    color: var(--_text);
  }
`;
