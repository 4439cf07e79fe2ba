// Writes a synthetic blog of N posts (prose, a highlighted code block, a table, tags, links
// between posts) for measuring start-up render time at scale. Used by bench/serve.
import fs from "node:fs";
import path from "node:path";

const TAGS = ["python", "web", "linux", "notes", "tls", "http", "databases", "rust", "go", "design"];

export function generateSite(dir: string, posts: number): void {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(path.join(dir, "content", "posts"), { recursive: true });
  fs.writeFileSync(path.join(dir, "content", "about.md"), "title: A generated blog\n\nThis blog was generated for a benchmark.\n");
  const start = Date.UTC(2015, 0, 1);
  for (let i = 0; i < posts; i++) {
    const date = new Date(start + i * 86_400_000).toISOString().slice(0, 10);
    const tags = [TAGS[i % TAGS.length], TAGS[(i * 7 + 3) % TAGS.length]];
    const previous = i > 0 ? `[Previous post]({{ url_for('post', name='post_${i - 1}') }})` : "First post.";
    const paragraphs = Array.from(
      { length: 6 },
      (_, p) =>
        `Paragraph ${p + 1} of post ${i}. It talks about *caching*, **latency** and \`keep-alive\` connections, ` +
        `links to [a site](https://example.com/${i}/${p}) and goes on for a while so that the page has the weight ` +
        `of a real article rather than a stub. Servers, certificates and markdown all appear here.`,
    ).join("\n\n");
    fs.writeFileSync(
      path.join(dir, "content", "posts", `post_${i}.md`),
      `---
title: Generated post number ${i}
date: ${date}
description: A synthetic post for the start-up benchmark (${i})
tags: [${tags.join(", ")}]
---

${previous}

${paragraphs}

## Some code

\`\`\`python
def handler(request, attempt=${i}):
    """Answer from memory."""
    body = cache.get(request.path)
    if body is None:
        return Response(status=404)
    return Response(body, headers={"etag": etag_of(body)})
\`\`\`

| column a | column b | column c |
|---|---|---|
| ${i} | ${i * 2} | ${i * 3} |
| x | y | z |
`,
    );
  }
}
