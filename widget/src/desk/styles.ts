import { css } from 'lit';

/** Adopted as a constructable stylesheet (no inline <style>, CSP-friendly). */
export const styles = css`
  :host {
    --_success: var(--parley-success, #146c2e);
    --_success-text: var(--parley-success-text, #fff);
    --_warning: var(--parley-warning, #7a5900);
    --_warning-bg: var(--parley-warning-background, #fff4d6);
    --_surface: var(--parley-surface, #f4f5f9);
    display: block;
  }

  .desk {
    box-sizing: border-box;
    max-width: var(--parley-desk-width, 72rem);
    margin: 0 auto;
    padding: 1rem;
    display: flex;
    flex-direction: column;
    gap: 1rem;
  }
  h1,
  h2,
  h3 {
    margin: 0;
    line-height: 1.2;
  }
  h1 {
    font-size: 1.25rem;
  }
  h2 {
    font-size: 1.1rem;
  }
  h3 {
    font-size: 0.85rem;
    text-transform: uppercase;
    letter-spacing: 0.04em;
    color: var(--_muted);
    margin-bottom: 0.25rem;
  }
  p {
    margin: 0;
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

  .spacer {
    margin-inline-end: auto;
  }
  .muted {
    color: var(--_muted);
  }
  .badge {
    display: inline-block;
    padding: 0.1rem 0.5rem;
    border-radius: 999px;
    border: 1px solid var(--_border);
    font-size: 0.85rem;
  }
  .badge.warn,
  .banner.warn {
    background: var(--_warning-bg);
    color: var(--_warning);
    border-color: currentColor;
  }
  .banner {
    padding: 0.5rem 0.75rem;
    border-radius: var(--_radius);
    border: 1px solid var(--_border);
  }
  .banner.error,
  .error-text {
    color: var(--_danger);
  }
  .banner.error {
    border-color: var(--_danger);
    background: var(--_bg);
  }

  /* sign-in */
  .sign-in {
    max-width: 22rem;
    margin: 4rem auto;
  }
  .field {
    display: flex;
    flex-direction: column;
    gap: 0.25rem;
  }

  /* header */
  header {
    display: flex;
    flex-wrap: wrap;
    align-items: center;
    gap: 0.75rem;
  }
  .state {
    font-weight: 600;
  }
  .state::before {
    content: '';
    display: inline-block;
    width: 0.6rem;
    height: 0.6rem;
    border-radius: 50%;
    margin-inline-end: 0.4rem;
    background: var(--_muted);
  }
  .state.available::before {
    background: var(--_success);
  }
  .state.ringing::before,
  .state.busy::before {
    background: var(--_accent);
  }
  .state.wrap-up::before {
    background: var(--_warning);
  }

  /* calls */
  .ring-card {
    border: 2px solid var(--_accent);
  }
  .number {
    font-size: 2rem;
    font-weight: 700;
    font-variant-numeric: tabular-nums;
    letter-spacing: 0.02em;
  }
  .caller {
    font-size: 1.1rem;
  }
  .details {
    display: grid;
    grid-template-columns: repeat(auto-fit, minmax(14rem, 1fr));
    gap: 1rem;
  }
  dl {
    margin: 0;
    display: grid;
    grid-template-columns: max-content 1fr;
    gap: 0.15rem 0.75rem;
  }
  dt {
    color: var(--_muted);
  }
  dd {
    margin: 0;
    overflow-wrap: anywhere;
  }
  dd.warning {
    color: var(--_warning);
    font-weight: 600;
  }
  ul.previous {
    margin: 0;
    padding-inline-start: 1.1rem;
  }
  .timer {
    font-size: 1.5rem;
    font-variant-numeric: tabular-nums;
  }

  /* controls */
  button,
  input {
    font: inherit;
  }

  button[aria-pressed='true'],
  button[role='switch'][aria-checked='false'] {
    background: var(--_text);
    color: var(--_bg);
  }
  button.answer {
    background: var(--_success);
    color: var(--_success-text);
    font-weight: 600;
    min-width: 8rem;
  }

  input[type='text'],
  input[type='password'],
  input:not([type]) {
    min-width: 0;
    padding: 0.5rem;
    border: 1px solid var(--_border);
    border-radius: var(--_radius);
    background: var(--_bg);
    color: var(--_text);
  }
  input[aria-invalid='true'] {
    border-color: var(--_danger);
  }
  label.check {
    display: inline-flex;
    align-items: center;
    gap: 0.5rem;
    cursor: pointer;
  }
  input[type='checkbox'] {
    width: 1.25rem;
    height: 1.25rem;
  }

  /* chat */
  .chat {
    display: flex;
    flex-direction: column;
    gap: 0.5rem;
  }
  .log {
    list-style: none;
    margin: 0;
    padding: 0.5rem;
    min-height: 4rem;
    max-height: 18rem;
    overflow-y: auto;
    background: var(--_surface);
    border-radius: var(--_radius);
  }

  .log .event {
    color: var(--_muted);
    font-style: italic;
  }

  .chat form {
    display: flex;
    gap: 0.5rem;
  }
  .chat input {
    flex: 1;
  }

  /* recent calls */
  table {
    width: 100%;
    border-collapse: collapse;
  }
  th,
  td {
    text-align: start;
    padding: 0.35rem 0.5rem;
    border-bottom: 1px solid var(--_border);
  }
  th {
    color: var(--_muted);
    font-weight: 600;
  }
  td.num {
    font-variant-numeric: tabular-nums;
  }
`;
