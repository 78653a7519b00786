"""Page canvas and flowing text layout for the sample generator.

A Writer owns a list of page images (PIL, mode "L" or "RGB") drawn at the
document's dpi.  Sizes are given in points (1/72 inch) and converted with
the dpi so that a 10 pt line is 10 pt on paper whatever the resolution.
"""

import math

from PIL import Image, ImageDraw, ImageFont

FONT_DIR_DEJAVU = "/usr/share/fonts/truetype/dejavu/"
FONT_DIR_LIB = "/usr/share/fonts/truetype/liberation2/"
FONT_DIR_FREE = "/usr/share/fonts/truetype/freefont/"

# family -> (regular, bold)
FAMILIES = {
    "DejaVu Sans": (FONT_DIR_DEJAVU + "DejaVuSans.ttf", FONT_DIR_DEJAVU + "DejaVuSans-Bold.ttf"),
    "DejaVu Serif": (FONT_DIR_DEJAVU + "DejaVuSerif.ttf", FONT_DIR_DEJAVU + "DejaVuSerif-Bold.ttf"),
    "DejaVu Sans Mono": (FONT_DIR_DEJAVU + "DejaVuSansMono.ttf",
                         FONT_DIR_DEJAVU + "DejaVuSansMono-Bold.ttf"),
    "Liberation Sans": (FONT_DIR_LIB + "LiberationSans-Regular.ttf",
                        FONT_DIR_LIB + "LiberationSans-Bold.ttf"),
    "Liberation Serif": (FONT_DIR_LIB + "LiberationSerif-Regular.ttf",
                         FONT_DIR_LIB + "LiberationSerif-Bold.ttf"),
    "Liberation Mono": (FONT_DIR_LIB + "LiberationMono-Regular.ttf",
                        FONT_DIR_LIB + "LiberationMono-Bold.ttf"),
    "FreeSans": (FONT_DIR_FREE + "FreeSans.ttf", FONT_DIR_FREE + "FreeSansBold.ttf"),
    "FreeSerif": (FONT_DIR_FREE + "FreeSerif.ttf", FONT_DIR_FREE + "FreeSerifBold.ttf"),
}

HAND_FONTS = {
    "Humor Sans": "/usr/share/fonts/truetype/humor-sans/Humor-Sans.ttf",
    "Comic Neue": "/usr/share/fonts/opentype/comic-neue/ComicNeue-Regular.otf",
    "Comic Neue Bold": "/usr/share/fonts/opentype/comic-neue/ComicNeue-Bold.otf",
    "Comic Neue Italic": "/usr/share/fonts/opentype/comic-neue/ComicNeue-Italic.otf",
}

PAPER_SIZES = {"letter": (8.5, 11.0), "a4": (8.27, 11.69)}

_font_cache = {}


def font(path, size_px):
    key = (path, size_px)
    f = _font_cache.get(key)
    if f is None:
        f = ImageFont.truetype(path, max(6, size_px))
        _font_cache[key] = f
    return f


class Style:
    """Everything that decides how a document looks (not what it says)."""

    def __init__(self, dpi, paper_size, family, body_pt, paper, ink, mode):
        self.dpi = dpi
        self.paper_size = paper_size
        self.size_in = PAPER_SIZES[paper_size]
        self.family = family
        self.regular, self.bold = FAMILIES[family]
        self.body_pt = body_pt
        self.paper = paper      # int (L) or RGB tuple
        self.ink = ink          # int grey level of the printed ink
        self.mode = mode
        self.margin_in = 0.75

    def color(self, level):
        """A grey level as a fill value for this page mode."""
        if self.mode == "RGB":
            return (level, level, level)
        return level


class Writer:
    """Flowing layout over one or more pages; new pages open as text runs over."""

    def __init__(self, st):
        self.st = st
        self.pages = []
        self.reserve_top = 0      # px kept free at the top of every page (running header)
        self.reserve_bottom = 0   # px kept free at the bottom (running footer)
        self.first_page_bottom_extra = 0
        self.on_new_page = None
        self.new_page()

    # units -------------------------------------------------------------
    def px(self, pt):
        return int(round(pt * self.st.dpi / 72.0))

    def inch(self, v):
        return int(round(v * self.st.dpi))

    @property
    def width(self):
        return self.pages[-1].size[0]

    @property
    def height(self):
        return self.pages[-1].size[1]

    @property
    def left(self):
        return self.inch(self.st.margin_in)

    @property
    def right(self):
        return self.width - self.inch(self.st.margin_in)

    @property
    def bottom(self):
        b = self.height - self.inch(self.st.margin_in * 0.8) - self.reserve_bottom
        if len(self.pages) == 1:
            b -= self.first_page_bottom_extra
        return b

    def font(self, pt, bold=False, path=None):
        return font(path or (self.st.bold if bold else self.st.regular), self.px(pt))

    def ink(self, level=None):
        return self.st.color(self.st.ink if level is None else level)

    # pages -------------------------------------------------------------
    def new_page(self):
        w_in, h_in = self.st.size_in
        img = Image.new(self.st.mode, (self.inch(w_in), self.inch(h_in)), self.st.paper)
        self.pages.append(img)
        self.draw = ImageDraw.Draw(img)
        self.y = self.inch(self.st.margin_in * 0.8) + self.reserve_top
        if self.on_new_page is not None:
            self.on_new_page(self)

    def ensure(self, h):
        if self.y + h > self.bottom:
            self.new_page()

    def line_h(self, pt):
        return self.px(pt * 1.38)

    def gap(self, pt):
        self.y += self.px(pt)

    # text --------------------------------------------------------------
    def text_at(self, x, y, s, pt=None, bold=False, path=None, ink=None):
        """Draw s with its top-left at (x, y); return its width in px."""
        f = self.font(pt or self.st.body_pt, bold, path)
        self.draw.text((x, y), s, font=f, fill=ink if ink is not None else self.ink())
        return int(f.getlength(s))

    def measure(self, s, pt=None, bold=False, path=None):
        return int(self.font(pt or self.st.body_pt, bold, path).getlength(s))

    def fit_pt(self, s, pt, max_w, bold=False):
        while pt > 8 and self.measure(s, pt, bold) > max_w:
            pt -= 0.5
        return pt

    def text(self, s, pt=None, bold=False, align="left", x=None, path=None, ink=None):
        pt = pt or self.st.body_pt
        h = self.line_h(pt)
        self.ensure(h)
        w = self.measure(s, pt, bold, path)
        if x is None:
            if align == "center":
                x = (self.left + self.right - w) // 2
            elif align == "right":
                x = self.right - w
            else:
                x = self.left
        self.text_at(x, self.y, s, pt, bold, path, ink)
        self.y += h
        return x, w

    def row(self, cells, pt=None):
        """One line with several pieces: cells = [(x_fraction, text, bold), ...]."""
        pt = pt or self.st.body_pt
        h = self.line_h(pt)
        self.ensure(h)
        span = self.right - self.left
        for frac, s, bold in cells:
            self.text_at(self.left + int(span * frac), self.y, s, pt, bold)
        self.y += h

    def labelled_row(self, pairs, pt=None, gap_pt=4):
        """label value   label value ... on one line, pairs = [(label, value, x_frac)]."""
        pt = pt or self.st.body_pt
        h = self.line_h(pt)
        self.ensure(h)
        span = self.right - self.left
        for label, value, frac in pairs:
            x = self.left + int(span * frac)
            x += self.text_at(x, self.y, label, pt, True)
            self.text_at(x + self.px(gap_pt), self.y, value, pt, False)
        self.y += h

    def para(self, s, pt=None, indent_pt=0, bold=False):
        """Word-wrapped paragraph."""
        pt = pt or self.st.body_pt
        f = self.font(pt, bold)
        x0 = self.left + self.px(indent_pt)
        max_w = self.right - x0
        line = ""
        for word in s.split():
            trial = word if not line else line + " " + word
            if f.getlength(trial) > max_w and line:
                self.text(line, pt, bold, x=x0)
                line = word
            else:
                line = trial
        if line:
            self.text(line, pt, bold, x=x0)

    def hr(self, thick_pt=0.8, pad_pt=3):
        self.y += self.px(pad_pt)
        t = max(1, self.px(thick_pt))
        self.draw.rectangle([self.left, self.y, self.right, self.y + t - 1], fill=self.ink())
        self.y += t + self.px(pad_pt)

    def table(self, headers, rows, fracs, pt=None, border=True, header_bold=True, shade=False):
        """Simple grid; fracs are column start positions as fractions of the text width."""
        pt = pt or self.st.body_pt
        rh = self.px(pt * 1.7)
        pad = self.px(pt * 0.35)
        span = self.right - self.left
        xs = [self.left + int(span * fr) for fr in fracs] + [self.right]
        lw = max(1, self.px(0.6))
        all_rows = ([(headers, True)] if headers else []) + [(r, False) for r in rows]
        for cells, is_head in all_rows:
            self.ensure(rh)
            y0 = self.y
            if is_head and shade:
                self.draw.rectangle([xs[0], y0, xs[-1], y0 + rh], fill=self.ink(225))
            for i, cell in enumerate(cells):
                self.text_at(xs[i] + pad, y0 + pad, cell, pt, header_bold and is_head)
            if border:
                self.draw.rectangle([xs[0], y0, xs[-1], y0 + rh], outline=self.ink(), width=lw)
                for x in xs[1:-1]:
                    self.draw.line([x, y0, x, y0 + rh], fill=self.ink(), width=lw)
            elif is_head:
                self.draw.line([xs[0], y0 + rh - lw, xs[-1], y0 + rh - lw], fill=self.ink(), width=lw)
            self.y = y0 + rh
        self.y += self.px(pt * 0.5)

    def box(self, x0, y0, x1, y1, width_pt=0.8):
        self.draw.rectangle([x0, y0, x1, y1], outline=self.ink(), width=max(1, self.px(width_pt)))

    def checkbox(self, x, y, pt, checked):
        s = self.px(pt * 0.8)
        self.draw.rectangle([x, y + self.px(pt * 0.15), x + s, y + self.px(pt * 0.15) + s],
                            outline=self.ink(), width=max(1, self.px(0.6)))
        if checked:
            self.draw.line([x, y + self.px(pt * 0.15), x + s, y + self.px(pt * 0.15) + s],
                           fill=self.ink(), width=max(1, self.px(0.8)))
            self.draw.line([x + s, y + self.px(pt * 0.15), x, y + self.px(pt * 0.15) + s],
                           fill=self.ink(), width=max(1, self.px(0.8)))
        return s + self.px(pt * 0.4)


# handwriting ---------------------------------------------------------------

def hand_ink(st, rng):
    """Pen colour: blue or black ballpoint."""
    if st.mode == "RGB":
        return rng.choice([(25, 45, 150), (20, 20, 35), (35, 60, 170)])
    return rng.choice([30, 45, 60])


def hand_text(img, x, y, s, size_px, rng, font_path, ink, slope_deg=0.0, jitter=1.0):
    """Write s as if by hand: each glyph gets its own size, rotation and baseline.

    Returns the x after the last glyph.  y is the top of the line.
    """
    cx = float(x)
    slope = math.tan(math.radians(slope_deg))
    base_rot = rng.uniform(-4, 4)   # overall slant of this writer
    for ch in s:
        if ch == " ":
            cx += size_px * rng.uniform(0.32, 0.5)
            continue
        sz = max(8, int(size_px * rng.uniform(1 - 0.1 * jitter, 1 + 0.1 * jitter)))
        f = font(font_path, sz)
        w = f.getlength(ch)
        pad = sz // 2
        glyph = Image.new("L", (int(w) + 2 * pad, sz + 2 * pad), 0)
        ImageDraw.Draw(glyph).text((pad, pad), ch, font=f, fill=255)
        glyph = glyph.rotate(base_rot + rng.uniform(-7, 7) * jitter, resample=Image.BICUBIC,
                             expand=True)
        dy = rng.uniform(-0.1, 0.1) * size_px * jitter + (cx - x) * slope
        gx = int(cx - (glyph.size[0] - w) / 2)
        gy = int(y + dy - (glyph.size[1] - sz) / 2) + (size_px - sz)
        img.paste(ink, (gx, gy, gx + glyph.size[0], gy + glyph.size[1]), glyph)
        cx += w * rng.uniform(0.9, 1.08) + size_px * rng.uniform(0.0, 0.06)
    return int(cx)


def scribble(draw, x, y, w, h, rng, ink, width):
    """A signature-like cursive stroke (a wobbling prolate cycloid) inside (x, y, w, h)."""
    loops = rng.randint(4, 9)
    phase = rng.uniform(0, 6.28)
    amp_x = w / loops * rng.uniform(0.15, 0.3)
    pts = []
    n = loops * 16
    for i in range(n + 1):
        t = i / n
        a = phase + t * loops * 2 * math.pi
        env = 0.55 + 0.45 * math.sin(t * math.pi * rng.uniform(0.9, 1.1))
        px = x + t * w - amp_x * math.sin(a)
        py = y + h * (0.5 - 0.45 * env * math.cos(a) * rng.uniform(0.85, 1.0) + 0.15 * (t - 0.5))
        pts.append((px, py))
    draw.line(pts, fill=ink, width=width, joint="curve")
    # the underline flourish
    y2 = y + h * rng.uniform(0.85, 1.0)
    draw.line([(x + w * 0.1, y2), (x + w * 0.6, y2 + h * 0.05), (x + w * 1.05, y2 - h * 0.1)],
              fill=ink, width=width, joint="curve")
