// The Atom feed and sitemap.xml. Both need absolute URLs, so they are built per origin
// (scheme + host of the request) from what the render produced.
export interface FeedPost {
  url: string;
  title: string;
  description: string;
  /** Milliseconds since the epoch, or undefined. */
  dateValue: number | undefined;
  tags: string[];
  html: string;
}

const XML_ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" };
export const escapeXml = (text: string) => text.replace(/[&<>"']/g, (c) => XML_ESCAPES[c]!);

/** Newest entries, as most feeds carry. */
const FEED_ENTRIES = 20;

export function atomFeed(options: { origin: string; title: string; subtitle?: string; posts: FeedPost[]; fallbackUpdated: Date }): string {
  const { origin, posts } = options;
  const entries = posts.slice(0, FEED_ENTRIES);
  const newest = entries.find((p) => p.dateValue !== undefined)?.dateValue;
  const updated = new Date(newest ?? options.fallbackUpdated.getTime()).toISOString();
  const lines = [
    '<?xml version="1.0" encoding="utf-8"?>',
    '<feed xmlns="http://www.w3.org/2005/Atom">',
    `  <title>${escapeXml(options.title)}</title>`,
    ...(options.subtitle ? [`  <subtitle>${escapeXml(options.subtitle)}</subtitle>`] : []),
    `  <id>${escapeXml(origin)}/</id>`,
    `  <link rel="alternate" type="text/html" href="${escapeXml(origin)}/"/>`,
    `  <link rel="self" type="application/atom+xml" href="${escapeXml(origin)}/feed.xml"/>`,
    `  <updated>${updated}</updated>`,
    `  <author><name>${escapeXml(options.title)}</name></author>`,
  ];
  for (const post of entries) {
    const url = origin + post.url;
    const date = new Date(post.dateValue ?? options.fallbackUpdated.getTime()).toISOString();
    lines.push(
      "  <entry>",
      `    <title>${escapeXml(post.title)}</title>`,
      `    <id>${escapeXml(url)}</id>`,
      `    <link rel="alternate" type="text/html" href="${escapeXml(url)}"/>`,
      `    <published>${date}</published>`,
      `    <updated>${date}</updated>`,
      ...(post.description ? [`    <summary>${escapeXml(post.description)}</summary>`] : []),
      ...post.tags.map((t) => `    <category term="${escapeXml(t)}"/>`),
      // Root-relative links in the body would resolve against the feed reader; xml:base fixes them.
      `    <content type="html" xml:base="${escapeXml(url)}">${escapeXml(post.html)}</content>`,
      "  </entry>",
    );
  }
  lines.push("</feed>", "");
  return lines.join("\n");
}

export function sitemap(origin: string, pages: { url: string; dateValue?: number }[]): string {
  const lines = ['<?xml version="1.0" encoding="utf-8"?>', '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'];
  for (const page of pages) {
    const lastmod = page.dateValue !== undefined ? `<lastmod>${new Date(page.dateValue).toISOString().slice(0, 10)}</lastmod>` : "";
    lines.push(`  <url><loc>${escapeXml(origin + page.url)}</loc>${lastmod}</url>`);
  }
  lines.push("</urlset>", "");
  return lines.join("\n");
}
