/**
 * The marketplace elements, a lazy chunk of the widget: `parley.js` imports
 * it only when the page has one of them (`../lazy-define.ts`).
 */
import { ParleyListings } from './parley-listings.js';
import { ParleyMarketplaceReport } from './parley-marketplace-report.js';

if (!customElements.get('parley-listings'))
  customElements.define('parley-listings', ParleyListings);
if (!customElements.get('parley-marketplace-report'))
  customElements.define('parley-marketplace-report', ParleyMarketplaceReport);

declare global {
  interface HTMLElementTagNameMap {
    'parley-listings': ParleyListings;
    'parley-marketplace-report': ParleyMarketplaceReport;
  }
}

export { ParleyListings, ParleyMarketplaceReport };
