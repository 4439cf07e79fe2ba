// Picks the site for a host: exact names first, then the longest matching wildcard, then the
// default site. Never guesses beyond that: an unknown host gets no site's content.
export class SiteTable<S> {
  private readonly exact = new Map<string, S>();
  private readonly wildcards: { suffix: string; site: S }[] = [];
  private fallback: S | undefined;

  constructor(entries: { hosts: string[]; site: S; isDefault?: boolean }[]) {
    for (const { hosts, site, isDefault } of entries) {
      for (const host of hosts) {
        if (host.startsWith("*.")) this.wildcards.push({ suffix: host.slice(1), site });
        else this.exact.set(host, site);
      }
      if (isDefault) this.fallback = site;
    }
    this.wildcards.sort((a, b) => b.suffix.length - a.suffix.length);
  }

  /** The site serving this host, or undefined when none does. */
  match(host: string): S | undefined {
    const site = this.exact.get(host);
    if (site !== undefined) return site;
    for (const w of this.wildcards) {
      // *.example.com matches exactly one more label, as certificates do.
      if (host.endsWith(w.suffix) && !host.slice(0, -w.suffix.length).includes(".") && host.length > w.suffix.length) return w.site;
    }
    return this.fallback;
  }

  get defaultSite(): S | undefined {
    return this.fallback;
  }
}
