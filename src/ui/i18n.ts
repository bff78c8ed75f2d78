// The lab's languages (i18next + react-i18next): English (src/ui/i18n/en.ts) and Simplified Chinese
// (src/ui/i18n/zh.ts), the engine descriptions' Chinese words, and the choice, remembered in localStorage.
import i18n from 'i18next';
import { initReactI18next } from 'react-i18next';
import type { Dict } from './i18n/en';
import { en } from './i18n/en';
import { zh } from './i18n/zh';

export type Lang = 'en' | 'zh';

/**
 * The engine and adapter descriptions come from the worker in English (they are also stored with
 * each run); these are their words in 简体中文, for the page.
 */
const ENGINE_WORDS_ZH: [RegExp, string][] = [
  [/lab CPU engine/g, '本实验室的 CPU 引擎'],
  [/lab WebGPU engine/g, '本实验室的 WebGPU 引擎'],
  [/one net per thread/g, '每个线程训练一个网络'],
  [/each op on every thread/g, '每个运算分到所有线程'],
  [/one thread: the page is not cross-origin isolated/g, '单线程：页面未跨源隔离'],
  [/(\d+) threads?/g, '$1 个线程'],
  [/fallback adapter/g, '后备适配器'],
  [/software emulation/g, '软件模拟'],
  [/not timed, the only adapter is a software one/g, '未计时：唯一的适配器是软件模拟的'],
  [/measured before on this adapter/g, '此前在该适配器上测得'],
  [/ — auto: /g, '——自动选择：'],
  [/img\/s/g, '张图像/秒'],
  [/ on /g, '，运行于 '],
  // full-width punctuation around the Chinese words
  [/ ?\(/g, '（'],
  [/\)/g, '）'],
  [/, /g, '，'],
  [/: /g, '：'],
  [/ · /g, '；'],
];

/** An engine or adapter description in the page's language. */
export function localizeEngine(text: string): string {
  if (!i18n.language?.startsWith('zh')) return text;
  return ENGINE_WORDS_ZH.reduce((t, [re, to]) => t.replace(re, to), text);
}
/** Both dictionaries, for tests that check every key the page uses exists in each language. */
export const DICTIONARIES: Record<Lang, Dict> = { en, zh };
const STORAGE_KEY = 'degradation-lab.lang';

function savedLang(): Lang {
  try {
    const v = localStorage.getItem(STORAGE_KEY);
    return v === 'zh' ? 'zh' : 'en';
  } catch {
    return 'en';
  }
}

export function setLang(lang: Lang): void {
  try {
    localStorage.setItem(STORAGE_KEY, lang);
  } catch {
    // storage blocked: the choice lasts for this page only
  }
  void i18n.changeLanguage(lang);
  document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
}

void i18n.use(initReactI18next).init({
  resources: { en: { translation: en }, zh: { translation: zh } },
  lng: savedLang(),
  fallbackLng: 'en',
  interpolation: { escapeValue: false },
});
if (typeof document !== 'undefined') document.documentElement.lang = savedLang() === 'zh' ? 'zh-CN' : 'en';

export default i18n;
