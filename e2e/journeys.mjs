// The main journeys of a person using catalog, in headless Chromium, followed by an
// accessibility check of the main pages with axe-core. Every step is named; a failure
// says which step broke and leaves a screenshot of the page at that moment.

import { chromium } from 'playwright-core';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const base = process.env.BASE_URL;
const mailDir = process.env.MAIL_DIR;
const catalogBin = process.env.CATALOG_BIN;
const shots = process.env.SCREENSHOTS ?? path.join(here, 'screenshots');
const picture = path.join(here, 'fixtures', 'picture.png');
const axePath = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
const PASSWORD = 'velvet thunder 42';
const NEW_PASSWORD = 'copper lantern 77';

if (!base || !mailDir || !catalogBin) {
  console.error('BASE_URL, MAIL_DIR and CATALOG_BIN must be set (run e2e/run.sh)');
  process.exit(2);
}
mkdirSync(shots, { recursive: true });

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: [
    '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
  ],
});

let failures = 0;

function check(condition, message) {
  if (!condition) throw new Error(message);
}

/** Runs one step of a journey; on failure, screenshots the page and rethrows with its name. */
async function step(page, name, body) {
  try {
    await body();
    await page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true });
  } catch (e) {
    await page.screenshot({ path: path.join(shots, `FAILED-${name}.png`), fullPage: true }).catch(() => {});
    throw new Error(`step "${name}" failed at ${page.url()}: ${e.message}`);
  }
}

async function journey(title, body, options = {}) {
  // Only the accessibility audit injects a script, so only it bypasses the CSP.
  const context = await browser.newContext({ baseURL: base, ...options });
  const page = await context.newPage();
  try {
    await body(page);
    console.log(`ok   ${title}`);
  } catch (e) {
    failures += 1;
    console.log(`FAIL ${title}\n     ${e.message}`);
  } finally {
    await context.close();
  }
}

/** The messages the file backend wrote, newest last, decoded from quoted-printable. */
function mails() {
  return readdirSync(mailDir)
    .filter((f) => f.endsWith('.eml'))
    .map((f) => ({ f, t: statSync(path.join(mailDir, f)).mtimeMs }))
    .sort((a, b) => a.t - b.t)
    .map(({ f }) => readFileSync(path.join(mailDir, f), 'utf8')
      .replace(/=\r?\n/g, '')
      .replace(/=3D/g, '='));
}

async function mailTo(address, predicate) {
  for (let i = 0; i < 100; i += 1) {
    const found = mails().filter((m) => m.includes(address) && predicate(m));
    if (found.length > 0) return found[found.length - 1];
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no mail to ${address} arrived`);
}

async function flash(page, text) {
  const shown = await page.locator('.flash').allTextContents();
  check(shown.some((s) => s.includes(text)), `expected the flash "${text}", saw ${JSON.stringify(shown)}`);
}

async function register(page, email, prefix) {
  await step(page, `${prefix}-1-register-form`, async () => {
    await page.goto('/users/register');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByLabel('Password again').fill(PASSWORD);
    await page.getByRole('button', { name: 'Register' }).click();
    await page.waitForURL('**/users/register/done');
  });
  await step(page, `${prefix}-2-confirm-link`, async () => {
    const mail = await mailTo(email, (m) => m.includes('/users/verify/'));
    const link = mail.match(/https?:\/\/[^\s"<]+\/users\/verify\/[^\s"<]+/)[0];
    await page.goto(link);
    await page.getByRole('button').filter({ hasText: /confirm/i }).click();
    await page.waitForURL('**/products');
    check(await page.getByRole('button', { name: 'Sign out' }).isVisible(), 'signed in after confirming');
  });
}

async function signIn(page, email, password) {
  await page.goto('/users/login');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

const ann = `ann-${Date.now()}@example.com`;
const mod = `mod-${Date.now()}@example.com`;
const eve = `eve-${Date.now()}@example.com`;
let productPath = '';

await journey('register, confirm by the mailed link, land signed in', async (page) => {
  await register(page, ann, 'register');
});

await journey('sign out and sign in again', async (page) => {
  await step(page, 'signin-1-sign-in', async () => {
    await signIn(page, ann, PASSWORD);
    await page.waitForURL('**/products');
  });
  await step(page, 'signin-2-sign-out', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForLoadState();
    check(await page.locator('header').getByRole('link', { name: 'Sign in', exact: true }).isVisible(), 'signed out');
  });
  await step(page, 'signin-3-sign-in-again', async () => {
    await signIn(page, ann, PASSWORD);
    await page.waitForURL('**/products');
  });
});

await journey('forgot password: sign in with the mailed one, choose a new one', async (page) => {
  await step(page, 'reset-1-request', async () => {
    await page.goto('/users/login');
    await page.getByRole('link', { name: 'Forgot password?' }).click();
    await page.getByLabel('Email').fill(ann);
    await page.getByRole('button').filter({ hasText: /password/i }).click();
    await page.waitForURL('**/users/password-reset/done');
  });
  await step(page, 'reset-2-sign-in-with-generated', async () => {
    const mail = await mailTo(ann, (m) => /^[A-Za-z0-9]{16}$/m.test(m));
    const generated = mail.match(/^[A-Za-z0-9]{16}$/m)[0];
    await signIn(page, ann, generated);
    await page.waitForURL('**/users/password-change');
    await page.getByLabel('Current password').fill(generated);
    await page.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
    await page.getByLabel('New password again').fill(NEW_PASSWORD);
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.waitForURL('**/users/profile');
  });
});

await journey('edit the profile with an avatar', async (page) => {
  await signIn(page, ann, NEW_PASSWORD);
  await page.waitForURL('**/products');
  await step(page, 'profile-1-save', async () => {
    await page.goto('/users/profile');
    await page.getByLabel('First name').fill('Ann');
    await page.getByLabel('Last name').fill('Lee');
    await page.getByLabel('Country').selectOption('DE');
    await page.getByLabel('Phone').fill('030 1234567');
    await page.getByLabel('Avatar').setInputFiles(picture);
    await page.getByRole('button', { name: 'Save profile' }).click();
    await page.waitForURL('**/users/profile');
    await flash(page, 'Profile saved.');
    check(await page.getByLabel('Phone').inputValue() === '+49301234567', 'phone stored as E.164');
    check(await page.locator('header img').count() === 1, 'avatar shown in the header');
  });
});

await journey('create a product with an image', async (page) => {
  await signIn(page, ann, NEW_PASSWORD);
  await page.waitForURL('**/products');
  await step(page, 'product-1-empty-list', async () => {
    check(await page.getByText('There are no products yet.').isVisible(), 'empty state');
  });
  await step(page, 'product-2-form-errors', async () => {
    await page.getByRole('link', { name: 'New product' }).first().click();
    await page.getByLabel('Name').fill('Desk lamp');
    await page.getByLabel('Price').fill('12.345');
    await page.getByRole('button', { name: 'Create product' }).click();
    check(await page.locator('.error-summary').isVisible(), 'errors summarised');
    check(await page.getByLabel('Name').inputValue() === 'Desk lamp', 'values kept');
  });
  await step(page, 'product-3-saved', async () => {
    await page.getByLabel('Category').selectOption({ label: 'Lamps' });
    await page.getByLabel('Price').fill('199.99');
    await page.getByLabel('Description').fill('Warm light for long evenings.');
    await page.getByLabel('Image').setInputFiles(picture);
    await page.getByRole('button', { name: 'Create product' }).click();
    await page.waitForURL(/\/products\/\d+$/);
    await flash(page, 'Product saved.');
    check(await page.locator('img.product-image').isVisible(), 'image shown');
    productPath = new URL(page.url()).pathname;
  });
  await step(page, 'product-4-list', async () => {
    await page.goto('/products');
    check(await page.locator('.card').count() === 1, 'one card');
    check(await page.locator('.card img.thumb').count() === 1, 'thumbnail');
  });
});

await journey('a moderator edits only what moderators may', async (page) => {
  await register(page, mod, 'moderator');
  execFileSync(catalogBin, ['groups', 'add-member', 'moderators', mod], { stdio: 'pipe' });
  await step(page, 'moderator-3-restricted-form', async () => {
    await page.goto(`${productPath}/edit`);
    check(await page.getByLabel('Description').isVisible(), 'description offered');
    check(await page.getByLabel('Name').count() === 0, 'no name field');
    check(await page.getByLabel('Price').count() === 0, 'no price field');
    check(await page.locator('fieldset.versions').count() === 0, 'no versions formset');
  });
  await step(page, 'moderator-4-saved', async () => {
    await page.getByLabel('Description').fill('Checked by a moderator.');
    await page.getByRole('button', { name: 'Save product' }).click();
    await page.waitForURL(`**${productPath}`);
    await flash(page, 'Product saved.');
  });
});

await journey("another user cannot open someone else's edit page", async (page) => {
  await register(page, eve, 'stranger');
  await step(page, 'stranger-3-forbidden', async () => {
    const response = await page.goto(`${productPath}/edit`);
    check(response.status() === 403, `expected 403, got ${response.status()}`);
    check(await page.getByRole('heading', { name: 'Not allowed' }).isVisible(), 'error page in the layout');
    check(await page.getByRole('link', { name: /back/i }).isVisible(), 'a way back');
  });
});

// Accessibility: axe-core on the main pages, anonymous and signed in.
await journey('accessibility: no serious or critical axe violations', async (page) => {
  const audit = async (url) => {
    await page.goto(url);
    await page.addScriptTag({ path: axePath });
    const result = await page.evaluate(async () => await window.axe.run(document));
    const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    check(bad.length === 0, `${url}: ${bad.map((v) => `${v.id} (${v.nodes.length}): ${v.help}`).join('; ')}`);
  };
  await step(page, 'a11y-1-anonymous', async () => {
    for (const url of ['/', '/users/register', '/users/login', '/users/password-reset', '/no-such-page']) {
      await audit(url);
    }
  });
  await signIn(page, ann, NEW_PASSWORD);
  await page.waitForURL('**/products');
  await step(page, 'a11y-2-signed-in', async () => {
    for (const url of ['/products', productPath, `${productPath}/edit`, '/products/new', '/users/profile', '/users/password-change']) {
      await audit(url);
    }
  });
  await step(page, 'a11y-3-dark-mode', async () => {
    await page.emulateMedia({ colorScheme: 'dark' });
    for (const url of ['/products', productPath, `${productPath}/edit`, '/users/profile']) {
      await audit(url);
    }
    await page.emulateMedia({ colorScheme: 'light' });
  });
  await step(page, 'a11y-4-phone-width', async () => {
    await page.setViewportSize({ width: 360, height: 740 });
    for (const url of ['/products', productPath, `${productPath}/edit`, '/users/profile']) {
      await page.goto(url);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      check(overflow <= 0, `${url} scrolls sideways by ${overflow}px at 360px`);
    }
  });
}, { bypassCSP: true });

await browser.close();
console.log(failures === 0 ? 'all journeys passed' : `${failures} journey(s) failed`);
console.log(`screenshots: ${shots}`);
process.exit(failures === 0 ? 0 : 1);
