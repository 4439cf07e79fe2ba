// Picks the site for a host: exact names first, then the longest matching wildcard, then the
// site marked `default: true`, if any. Never guesses beyond that: an unknown host gets no site's
// content, however few sites there are.
export class SiteTable<S> {
  private readonly exact = new Map<string, S>();
  private readonly wildcards: { suffix: string; site: S }[] = [];
  private readonly fallback: S | undefined;
  /** Every site, in config order. */
  readonly all: readonly S[];

  constructor(entries: { hosts: string[]; site: S; isDefault?: boolean }[]) {
    let fallback: S | undefined;
    for (const { hosts, site, isDefault } of entries) {
      for (const host of hosts) {
        if (host.startsWith("*.")) this.wildcards.push({ suffix: host.slice(1), site });
        else this.exact.set(host, site);
      }
      if (isDefault) fallback = site;
    }
    this.fallback = fallback;
    this.all = entries.map((e) => e.site);
    this.wildcards.sort((a, b) => b.suffix.length - a.suffix.length);
  }

  /** The site serving this host (by name, else the default site), or undefined when none does. */
  match(host: string): S | undefined {
    return this.matchByName(host) ?? this.fallback;
  }

  /** The site that names this host (exactly or by wildcard); the default site does not count. */
  matchByName(host: string): S | undefined {
    const site = this.exact.get(host);
    if (site !== undefined) return site;
    for (const w of this.wildcards) {
      // *.example.com matches exactly one more label, as certificates do.
      if (host.endsWith(w.suffix) && !host.slice(0, -w.suffix.length).includes(".") && host.length > w.suffix.length) return w.site;
    }
    return undefined;
  }

  /** The site marked `default: true`. */
  get defaultSite(): S | undefined {
    return this.fallback;
  }
}
