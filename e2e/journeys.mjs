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
// The language the person browses in (their browser's Accept-Language), and the words
// they see in it: the journeys are the same in each language.
const lang = process.env.E2E_LANG ?? 'en';
const WORDS = {
  en: {
    email: 'Email', password: 'Password', passwordAgain: 'Password again', register: 'Register',
    confirm: /confirm/i, signOut: 'Sign out', signIn: 'Sign in', forgot: 'Forgot password?',
    sendPassword: /password/i, currentPassword: 'Current password', newPassword: 'New password',
    newPasswordAgain: 'New password again', changePassword: 'Change password',
    firstName: 'First name', lastName: 'Last name', country: 'Country', phone: 'Phone',
    avatar: 'Avatar', saveProfile: 'Save profile', profileSaved: 'Profile saved.',
    noProducts: 'There are no products yet.', newProduct: 'New product', name: 'Name',
    price: 'Price', createProduct: 'Create product', category: 'Category', lamps: 'Lamps',
    description: 'Description', image: 'Image', productSaved: 'Product saved.',
    saveProduct: 'Save product', notAllowed: 'Not allowed', back: /back/i,
    goodPrice: '199.99', shownPrice: '199.99',
    lampName: 'Desk lamp', lampText: 'Warm light for long evenings.',
    chairs: 'Chairs', chairName: 'Reading chair', chairText: 'Pairs well with a desk lamp.',
    lamp2Name: 'Floor lamp', lamp2Price: '49.50', searchLabel: 'Words to look for',
    searchButton: 'Search', searchWords: 'lamps', sortLabel: 'Order',
    cheapest: 'Cheapest first', found: /3 products found/, categoryHeading: 'Products in Lamps',
  },
  ru: {
    email: 'Электронная почта', password: 'Пароль', passwordAgain: 'Пароль ещё раз',
    register: 'Зарегистрироваться', confirm: /подтвердить/i, signOut: 'Выйти', signIn: 'Войти',
    forgot: 'Забыли пароль?', sendPassword: /пароль/i, currentPassword: 'Текущий пароль',
    newPassword: 'Новый пароль', newPasswordAgain: 'Новый пароль ещё раз',
    changePassword: 'Сменить пароль', firstName: 'Имя', lastName: 'Фамилия', country: 'Страна',
    phone: 'Телефон', avatar: 'Аватар', saveProfile: 'Сохранить профиль',
    profileSaved: 'Профиль сохранён.', noProducts: 'Товаров пока нет.', newProduct: 'Новый товар',
    name: 'Название', price: 'Цена', createProduct: 'Создать товар', category: 'Категория',
    lamps: 'Лампы', description: 'Описание', image: 'Изображение',
    productSaved: 'Товар сохранён.', saveProduct: 'Сохранить товар', notAllowed: 'Нет доступа',
    back: /главную/i, goodPrice: '1234,5', shownPrice: '1\u00a0234,50',
    lampName: 'Лампа настольная', lampText: 'Тёплый свет для долгих вечеров.',
    chairs: 'Стулья', chairName: 'Кресло для чтения', chairText: 'Хорошо смотрится с настольной лампой.',
    lamp2Name: 'Лампа напольная', lamp2Price: '49,5', searchLabel: 'Что искать',
    searchButton: 'Найти', searchWords: 'лампы', sortLabel: 'Порядок',
    cheapest: 'Сначала дешёвые', found: /Найдено 3 товара/, categoryHeading: 'Товары в категории «Лампы»',
  },
}[lang];
const W = WORDS;
if (!W) {
  console.error(`E2E_LANG=${lang}: no words for this language`);
  process.exit(2);
}
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
  const context = await browser.newContext({
    baseURL: base,
    locale: lang,
    extraHTTPHeaders: { 'Accept-Language': lang },
    ...options,
  });
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

/** A raw message with its base64 parts decoded after it (Cyrillic text comes so). */
function decoded(raw) {
  const parts = [...raw.matchAll(/Content-Transfer-Encoding: base64\r?\n(?:[^\r\n]+\r?\n)*\r?\n([A-Za-z0-9+/=\r\n]+)/g)];
  return raw + parts.map((m) => Buffer.from(m[1].replace(/\s+/g, ''), 'base64').toString('utf8')).join('\n');
}

/** The messages the file backend wrote, newest last, decoded from quoted-printable. */
function mails() {
  return readdirSync(mailDir)
    .filter((f) => f.endsWith('.eml'))
    .map((f) => ({ f, t: statSync(path.join(mailDir, f)).mtimeMs }))
    .sort((a, b) => a.t - b.t)
    .map(({ f }) => decoded(readFileSync(path.join(mailDir, f), 'utf8'))
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
  await step(page, `${prefix}-0-empty-form`, async () => {
    await page.goto('/users/register');
  });
  await step(page, `${prefix}-1-register-form`, async () => {
    await page.goto('/users/register');
    await page.getByLabel(W.email).fill(email);
    await page.getByLabel(W.password, { exact: true }).fill(PASSWORD);
    await page.getByLabel(W.passwordAgain).fill(PASSWORD);
    await page.getByRole('button', { name: W.register }).click();
    await page.waitForURL('**/users/register/done');
  });
  await step(page, `${prefix}-2-confirm-link`, async () => {
    const mail = await mailTo(email, (m) => m.includes('/users/verify/'));
    const link = mail.match(/https?:\/\/[^\s"<]+\/users\/verify\/[^\s"<]+/)[0];
    await page.goto(link);
    await page.getByRole('button').filter({ hasText: W.confirm }).click();
    await page.waitForURL('**/products');
    check(await page.getByRole('button', { name: W.signOut }).isVisible(), 'signed in after confirming');
  });
}

async function signIn(page, email, password) {
  await page.goto('/users/login');
  await page.getByLabel(W.email).fill(email);
  await page.getByLabel(W.password, { exact: true }).fill(password);
  await page.getByRole('button', { name: W.signIn }).click();
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
    await page.getByRole('button', { name: W.signOut }).click();
    await page.waitForLoadState();
    check(await page.locator('header').getByRole('link', { name: W.signIn, exact: true }).isVisible(), 'signed out');
  });
  await step(page, 'signin-3-sign-in-again', async () => {
    await signIn(page, ann, PASSWORD);
    await page.waitForURL('**/products');
  });
});

await journey('forgot password: sign in with the mailed one, choose a new one', async (page) => {
  await step(page, 'reset-1-request', async () => {
    await page.goto('/users/login');
    await page.getByRole('link', { name: W.forgot }).click();
    await page.getByLabel(W.email).fill(ann);
    await page.getByRole('button').filter({ hasText: W.sendPassword }).click();
    await page.waitForURL('**/users/password-reset/done');
  });
  await step(page, 'reset-2-sign-in-with-generated', async () => {
    const mail = await mailTo(ann, (m) => /^[A-Za-z0-9]{16}$/m.test(m));
    const generated = mail.match(/^[A-Za-z0-9]{16}$/m)[0];
    await signIn(page, ann, generated);
    await page.waitForURL('**/users/password-change');
    await page.getByLabel(W.currentPassword).fill(generated);
    await page.getByLabel(W.newPassword, { exact: true }).fill(NEW_PASSWORD);
    await page.getByLabel(W.newPasswordAgain).fill(NEW_PASSWORD);
    await page.getByRole('button', { name: W.changePassword }).click();
    await page.waitForURL('**/users/profile');
  });
});

await journey('edit the profile with an avatar', async (page) => {
  await signIn(page, ann, NEW_PASSWORD);
  await page.waitForURL('**/products');
  await step(page, 'profile-1-save', async () => {
    await page.goto('/users/profile');
    await page.getByLabel(W.firstName).fill('Ann');
    await page.getByLabel(W.lastName).fill('Lee');
    await page.getByLabel(W.country).selectOption('DE');
    await page.getByLabel(W.phone).fill('030 1234567');
    await page.getByLabel(W.avatar).setInputFiles(picture);
    await page.getByRole('button', { name: W.saveProfile }).click();
    await page.waitForURL('**/users/profile');
    await flash(page, W.profileSaved);
    check(await page.getByLabel(W.phone).inputValue() === '+49301234567', 'phone stored as E.164');
    check(await page.locator('header img').count() === 1, 'avatar shown in the header');
  });
});

await journey('create a product with an image', async (page) => {
  await signIn(page, ann, NEW_PASSWORD);
  await page.waitForURL('**/products');
  await step(page, 'product-1-empty-list', async () => {
    check(await page.getByText(W.noProducts).isVisible(), 'empty state');
  });
  await step(page, 'product-2-form-errors', async () => {
    await page.getByRole('link', { name: W.newProduct }).first().click();
    await page.getByLabel(W.name, { exact: true }).fill(W.lampName);
    await page.getByLabel(W.price).fill('12.345');
    await page.getByRole('button', { name: W.createProduct }).click();
    check(await page.locator('.error-summary').isVisible(), 'errors summarised');
    check(await page.getByLabel(W.name, { exact: true }).inputValue() === W.lampName, 'values kept');
  });
  await step(page, 'product-3-saved', async () => {
    await page.getByLabel(W.category).selectOption({ label: W.lamps });
    await page.getByLabel(W.price).fill(W.goodPrice);
    await page.getByLabel(W.description).fill(W.lampText);
    await page.getByLabel(W.image).setInputFiles(picture);
    await page.getByRole('button', { name: W.createProduct }).click();
    await page.waitForURL(/\/products\/\d+$/);
    await flash(page, W.productSaved);
    check(await page.locator('img.product-image').isVisible(), 'image shown');
    const price = await page.locator('dd.price').textContent();
    check(price === W.shownPrice, `price written as the language writes it: ${JSON.stringify(price)}`);
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
    check(await page.getByLabel(W.description).isVisible(), 'description offered');
    check(await page.getByLabel(W.name, { exact: true }).count() === 0, 'no name field');
    check(await page.getByLabel(W.price).count() === 0, 'no price field');
    check(await page.locator('fieldset.versions').count() === 0, 'no versions formset');
  });
  await step(page, 'moderator-4-saved', async () => {
    await page.getByLabel(W.description).fill('Checked by a moderator.');
    await page.getByRole('button', { name: W.saveProduct }).click();
    await page.waitForURL(`**${productPath}`);
    await flash(page, W.productSaved);
  });
});

await journey("another user cannot open someone else's edit page", async (page) => {
  await register(page, eve, 'stranger');
  await step(page, 'stranger-3-forbidden', async () => {
    const response = await page.goto(`${productPath}/edit`);
    check(response.status() === 403, `expected 403, got ${response.status()}`);
    check(await page.getByRole('heading', { name: W.notAllowed }).isVisible(), 'error page in the layout');
    check(await page.getByRole('link', { name: W.back }).isVisible(), 'a way back');
  });
});

await journey('find a product: search, filter by category, sort by price, open it', async (page) => {
  await signIn(page, ann, NEW_PASSWORD);
  await page.waitForURL('**/products');
  const create = async (name, category, price, text) => {
    await page.goto('/products/new');
    await page.getByLabel(W.name, { exact: true }).fill(name);
    await page.getByLabel(W.category).selectOption({ label: category });
    await page.getByLabel(W.price).fill(price);
    await page.getByLabel(W.description).fill(text);
    await page.getByRole('button', { name: W.createProduct }).click();
    await page.waitForURL(/\/products\/\d+$/);
  };
  const cards = async () => page.locator('.card h2').allTextContents();
  await step(page, 'find-1-search', async () => {
    await create(W.chairName, W.chairs, '80', W.chairText);
    await create(W.lamp2Name, W.lamps, W.lamp2Price, '');
    await page.goto('/products');
    await page.getByLabel(W.searchLabel).fill(W.searchWords);
    await page.getByRole('button', { name: W.searchButton, exact: true }).click();
    await page.waitForURL(/[?&]q=/);
    check(await page.getByText(W.found).isVisible(), 'the count of what was found');
    const found = await cards();
    // Name matches first (the newest first among them), then the description's.
    check(JSON.stringify(found) === JSON.stringify([W.lamp2Name, W.lampName, W.chairName]),
      `ranked by relevance: ${JSON.stringify(found)}`);
  });
  await step(page, 'find-2-category', async () => {
    await page.getByLabel(W.category).selectOption({ label: W.lamps });
    await page.getByRole('button', { name: W.searchButton, exact: true }).click();
    await page.waitForURL(/category=\d+/);
    const found = await cards();
    check(found.length === 2 && !found.includes(W.chairName), `lamps only: ${JSON.stringify(found)}`);
    check(await page.getByLabel(W.searchLabel).inputValue() === W.searchWords, 'the words are kept');
  });
  await step(page, 'find-3-sort-by-price', async () => {
    await page.getByLabel(W.sortLabel).selectOption({ label: W.cheapest });
    await page.getByRole('button', { name: W.searchButton, exact: true }).click();
    await page.waitForURL(/sort=price/);
    const found = await cards();
    check(JSON.stringify(found) === JSON.stringify([W.lamp2Name, W.lampName]), `cheapest first: ${JSON.stringify(found)}`);
  });
  await step(page, 'find-4-open-and-its-category', async () => {
    await page.getByRole('link', { name: W.lampName }).click();
    await page.waitForURL(/\/products\/\d+$/);
    await page.locator('dd').getByRole('link', { name: W.lamps }).click();
    await page.waitForURL(/category=\d+/);
    check(await page.getByRole('heading', { name: W.categoryHeading }).isVisible(), 'the category\'s list');
    check((await cards()).length === 2, 'both lamps');
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
    for (const url of ['/products', '/products?q=lamp&sort=price', '/products?min_price=x', '/categories', productPath, `${productPath}/edit`, '/products/new', '/users/profile', '/users/password-change']) {
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
