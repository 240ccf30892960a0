/**
 * The admin token in the browser: kept in sessionStorage (this tab, until it closes), never in
 * the page the server sends. The sign-in link `/#token=…` that `adclick serve` prints carries it
 * in the fragment, which browsers never send to a server; the page moves it into storage and
 * takes it out of the address bar and the history at once.
 */
const KEY = 'adclick.admin-token';

export function readToken(storage: Storage): string | null {
  const token = storage.getItem(KEY);
  return token ? token : null;
}

export function saveToken(storage: Storage, token: string): void {
  storage.setItem(KEY, token.trim());
}

export function forgetToken(storage: Storage): void {
  storage.removeItem(KEY);
}

/** Moves `#token=…` into storage; true when there was one. */
export function takeTokenFromFragment(location: Location, history: History, storage: Storage): boolean {
  const params = new URLSearchParams(location.hash.replace(/^#/, ''));
  const token = params.get('token');
  if (token === null) return false;
  if (token.trim() !== '') saveToken(storage, token);
  history.replaceState(history.state, '', `${location.pathname}${location.search}`);
  return true;
}
