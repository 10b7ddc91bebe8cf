import { css } from 'lit';

/**
 * What the visitor's widget and the agent desk look alike in: the theme (the
 * `--parley-*` custom properties, read into private `--_*` ones, the font),
 * buttons, rows, focus, the chat log, screen-reader-only text and
 * forced-colors support. Each element adopts it before its own styles, whose
 * `:host` adds its display, its own properties and any other font size.
 */
export const controlStyles = css`
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
    font-family: var(--parley-font, system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif);
    font-size: var(--parley-font-size, 1rem);
    color: var(--_text);
    line-height: 1.4;
  }
  [hidden] {
    display: none !important;
  }
  .row {
    display: flex;
    flex-wrap: wrap;
    align-items: center;
    gap: 0.5rem;
  }
  button {
    min-height: 2.75rem;
    min-width: 2.75rem;
    padding: 0.5rem 1rem;
    border: 1px solid transparent;
    border-radius: var(--_radius);
    background: var(--_accent);
    color: var(--_accent-text);
    cursor: pointer;
  }
  button.secondary {
    background: transparent;
    color: var(--_text);
    border-color: var(--_border);
  }
  button.danger {
    background: var(--_danger);
    color: var(--_danger-text);
  }
  button:disabled {
    cursor: not-allowed;
    opacity: 0.6;
  }
  :focus-visible {
    outline: 3px solid var(--_focus);
    outline-offset: 2px;
  }
  .log li {
    margin: 0.25rem 0;
    overflow-wrap: anywhere;
  }
  .log .from {
    font-weight: 600;
  }
  .log .notice {
    color: var(--_danger);
  }
  .visually-hidden {
    position: absolute;
    width: 1px;
    height: 1px;
    overflow: hidden;
    clip: rect(0 0 0 0);
    white-space: nowrap;
  }
  @media (forced-colors: active) {
    button {
      border-color: ButtonText;
    }
  }
`;
