/**
 * Loads a chunk that defines some elements only once the page uses one of
 * them: now if they are in the document, or when one is added later. Keeps
 * the first load small for pages that only have `<parley-call>`.
 */
export function lazyDefine(tags: readonly string[], load: () => Promise<unknown>): void {
  if (typeof document === 'undefined') return;
  const selector = tags.join(',');
  let loading = false;
  const check = (): boolean => {
    if (loading || !document.querySelector(selector)) return loading;
    loading = true;
    void load();
    return true;
  };
  if (check()) return;
  const observer = new MutationObserver(() => {
    if (check()) observer.disconnect();
  });
  observer.observe(document.documentElement, { childList: true, subtree: true });
}
