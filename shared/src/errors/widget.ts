/**
 * `@parley/shared/errors/widget`: the widget's own codes and the error class
 * they need, without the rest of the registry (`@parley/shared/errors`). The
 * widget's first load imports only this, so the texts of every other code
 * stay in the lazy chunks (its budget: `widget/scripts/size.mjs`).
 */
export { WIDGET_CODES } from './codes/widget.js';
export { CodedError, type ErrorBody } from './coded-error.js';
