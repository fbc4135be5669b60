/** What every page of the console is: it renders into a root and may refresh or clean up. */

export interface View {
  /** Reloads its figures (the live refresh calls it while the tab is visible). */
  refresh?(): Promise<void>;
  /** Closes its sockets and timers when the operator leaves. */
  dispose?(): void;
}

/** A page: renders for a name and the route's parameters into `root`. */
export type Page = (root: HTMLElement, name: string | undefined, params: URLSearchParams) => View;
