// The one font stack of the page, its chart exports, the figure for slides and the architecture
// diagram: the system's UI font, then the common fonts with Chinese glyphs on each platform (Noto/Source
// Han on Linux and Android, PingFang on Apple, Microsoft YaHei on Windows, WenQuanYi on older Linux), so
// that an export in 简体中文 never falls back to boxes where any of them is installed. src/ui/app.css
// repeats it (fonts.test.ts checks that the two agree).
export const FONT_STACK =
  'system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", "WenQuanYi Micro Hei", sans-serif';
