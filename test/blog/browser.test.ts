// The built-in theme in headless Chromium: copying a code block never copies its line numbers,
// wide tables and code scroll inside the page on a phone, and dark mode follows the system.
import test, { after, before } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { chromium, type BrowserContext } from "playwright-core";
import { exampleBlogDir } from "../../src/paths.js";
import { startBlog, type RunningBlog } from "../support/blog-server.js";
import { tempDir } from "../support/env.js";

let blog: RunningBlog;
let browser: BrowserContext;
const profileDir = tempDir("chromium");
const profile = profileDir.dir;

before(async () => {
  blog = await startBlog(exampleBlogDir);
  // A fresh profile (--user-data-dir) per run, as playwright passes it.
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
});

after(async () => {
  await browser?.close();
  await blog.close();
  profileDir.remove();
});

test("selecting a whole code block copies the code, not the line numbers", async () => {
  const page = await browser.newPage();
  await page.goto(`${blog.base}/posts/highlighted-code/`);
  const selected = await page.evaluate(() => {
    const block = document.querySelector(".codehilite")!;
    const range = document.createRange();
    range.selectNodeContents(block);
    const selection = window.getSelection()!;
    selection.removeAllRanges();
    selection.addRange(range);
    return selection.toString();
  });
  assert.match(selected, /from functools import lru_cache/);
  assert.match(selected, /def fibonacci\(n: int\) -> int:/);
  assert.doesNotMatch(selected, /^\s*\d+\s*$/m, "no line of the selection is a bare line number");
  await page.close();
});

test("on a phone, wide tables and long code lines scroll inside the page instead of widening it", async () => {
  const page = await browser.newPage();
  await page.setViewportSize({ width: 380, height: 800 });
  for (const post of ["a-wide-table", "highlighted-code"]) {
    await page.goto(`${blog.base}/posts/${post}/`);
    const widths = await page.evaluate(() => {
      const box = document.querySelector(".table-scroll, .codehilite")!;
      return { page: document.documentElement.scrollWidth, viewport: window.innerWidth, content: box.scrollWidth, box: box.clientWidth };
    });
    assert.ok(widths.page <= widths.viewport, `${post}: page is ${widths.page}px wide in a ${widths.viewport}px viewport`);
    assert.ok(widths.content > widths.box, `${post}: the wide element scrolls (${widths.content} > ${widths.box})`);
  }
  await page.close();
});

test("the theme follows the system's dark mode", async () => {
  const colors: string[] = [];
  for (const colorScheme of ["light", "dark"] as const) {
    const page = await browser.newPage();
    await page.emulateMedia({ colorScheme });
    await page.goto(`${blog.base}/`);
    colors.push(await page.evaluate(() => getComputedStyle(document.body).backgroundColor));
    await page.close();
  }
  assert.notEqual(colors[0], colors[1]);
});
