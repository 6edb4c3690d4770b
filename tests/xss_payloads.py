"""A corpus of cross-site scripting payloads, for tests/test_xss.py.

Each payload carries its own marker, ``xss01`` to ``xssNN`` (always lower case), so that
anything a payload manages to create — an element, an attribute, a request, a call — can
be traced back to it. Where a payload would run code, it calls the function named by its
marker (``xss07()``): the browser tests define those functions and record each call.
Where it would create an element, the marker sits in one of the element's attributes (an
id, a class, a URL, a handler), unless the element is of a kind the pages never contain
(a script, a style sheet).

Most payloads fit in 60 characters, the longest name a participant may choose; a few
longer ones are kept for the fields that take them (proposals: 500, comments: 1,000).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MARKER_RE = re.compile(r"xss\d\d")


class Inert(str):
    """A payload that stays text even written into a page unescaped (in Chromium): it
    targets naive filters, other template engines, or what decodes entities, JavaScript
    escapes or look-alike brackets."""

    __slots__ = ()


# "{m}" stands for the payload's marker. Grouped by kind of attack.
_TEMPLATES: tuple[str, ...] = (
    # <script> in its variants: case, nesting, broken and unclosed tags, a source.
    "<script id={m}>{m}()</script>",
    "<SCRIPT class={m}>{m}()</SCRIPT>",
    "<ScRiPt id={m}>{m}()</sCrIpT>",
    Inert("<scr<script>ipt id={m}>{m}()</scr</script>ipt>"),
    "<script src=/{m}.js></script>",
    "<script/id={m}>{m}()</script>",
    "<script id={m}>{m}()",
    "</p></article></div><script id={m}>{m}()</script>",
    "--><!-- {m} --><script id={m}>{m}()</script>",
    "<<script id={m}>{m}();//<</script>",
    # Event handlers.
    "<img src=/{m}.png onerror={m}()>",
    '<img src=x:{m} onerror="{m}()">',
    "<svg onload={m}() id={m}>",
    "<body onload={m}() class={m}>",
    "<details open ontoggle={m}() id={m}>",
    "<input autofocus onfocus={m}() id={m}>",
    "<video><source onerror={m}() src=/{m}.mp4>",
    "<audio src=/{m}.mp3 onerror={m}()>",
    "<marquee onstart={m}() class={m}>x</marquee>",
    "<div onpointerover={m}() id={m}>hover me</div>",
    "<select autofocus onfocus={m}() id={m}></select>",
    "<isindex type=image src=/{m} onerror={m}()>",
    "<{m} onclick={m}()>a tag of my own</{m}>",
    # Breaking out of attributes and of the elements user text is drawn in.
    '"><img src=/{m}.png onerror={m}()>',
    "' onmouseover='{m}()' data-x='{m}",
    '" autofocus onfocus="{m}()" id="{m}',
    "</textarea><img src=/{m}.png onerror={m}()>",
    "</title><img src=/{m}.png onerror={m}()>",
    '"></option></select><img src=/{m}.png>',
    "</text></svg><img src=/{m}.png onerror={m}()>",
    "`onmouseover={m}() id={m}`",
    # javascript:, data: and vbscript: URLs.
    '<a href="javascript:{m}()" id={m}>click</a>',
    "<a href=JaVaScRiPt:{m}() id={m}>click</a>",
    '<a href="&#106;avascript:{m}()" id={m}>x</a>',
    "<a href=data:text/html;base64,PHNjcmlwdD4= id={m}>x</a>",
    '<a href="vbscript:msgbox({m})" id={m}>x</a>',
    "<iframe src=/{m}.html></iframe>",
    '<iframe srcdoc="<script>{m}()</script>" id={m}>',
    '<iframe src="javascript:{m}()" id={m}></iframe>',
    "<form action=/{m}><button>go</button></form>",
    "<button formaction=javascript:{m}() id={m}>x</button>",
    "<object data=/{m}.swf></object>",
    "<embed src=/{m}.swf>",
    Inert("javascript:{m}()//a bare URL, as text"),
    # SVG.
    "<svg><script id={m}>{m}()</script></svg>",
    "<svg><a xlink:href=javascript:{m}()><text id={m}>x</text></a>",
    "<svg><animate onbegin={m}() attributeName=x id={m}>",
    "<svg><set attributeName=href to=javascript:{m}() id={m}>",
    # MathML and other mutation XSS.
    "<math><mtext><table><mglyph><style><img src=/{m}.png onerror={m}()>",
    "<math><maction actiontype=statusline xlink:href=javascript:{m}()>x",
    '<noscript><p title="</noscript><img src=/{m}.png onerror={m}()>">',
    "<noembed><img src=/{m}.png onerror={m}()></noembed>",
    "<plaintext class={m}>",
    # Style, link, meta, base.
    "<style>@import '/{m}.css';</style>",
    "<link rel=stylesheet href=/{m}.css>",
    '<meta http-equiv=refresh content="0;url=/{m}">',
    "<base href=/{m}/>",
    '<div style="background:url(/{m}.png)">x</div>',
    "<table background=/{m}.png><tr><td>x</td></tr></table>",
    # Template injection: Jinja2, and others.
    "{{7*7}} {m} {{ config }}",
    "{% raw %}{m}{% endraw %} {{ ''.__class__ }}",
    Inert("${7*7} #{7*7} <%= 7*7 %> {m}"),
    # htmx and its websocket extension: requests, handlers, out-of-band swaps.
    '<div hx-get="/{m}" hx-trigger="load">x</div>',
    "<button hx-post=/{m} hx-trigger=load>x</button>",
    "<img src=/x hx-on:error={m}() class={m}>",
    '<a hx-on::before-request="{m}()" hx-get=/{m}>x</a>',
    "<div data-hx-get=/{m} data-hx-trigger=load>x</div>",
    "<div hx-ext=ws ws-connect=/ws/{m}>x</div>",
    "<div id=wall hx-swap-oob=true class={m}>gone</div>",
    "<div id=live-seq hx-swap-oob=true data-seq=9999 class={m}>",
    '<div hx-swap-oob="innerHTML:#stage" class={m}>gone</div>',
    '<div hx-get=/{m} hx-trigger="every 1s" hx-target=body>',
    "<span hx-vals='js:{a:{m}()}' hx-get=/x hx-trigger=load>",
    "<div hx-ext=sse sse-connect=/{m}>x</div>",
    "<div hx-boost=true><a href=/{m} id={m}>x</a></div>",
    # Unicode: direction overrides, zero-width characters, look-alikes, JS escapes.
    "{m}\u202e<script>{m}()</script>\u202c",
    "<scr\u200bipt id={m}>{m}()</scr\u200bipt>",
    Inert("\uff1cscript\uff1e{m}()\uff1c/script\uff1e"),
    Inert("\\u003cscript\\u003e{m}()\\u003c/script\\u003e"),
    "\u2028<img src=/{m}.png onerror={m}()>\u2029",
    "\u0130\u0131 \u00e9\u0301 <b class={m}>bold</b> \U0001f600",
    # HTML entities: shown as typed, never decoded into markup.
    Inert("&lt;script&gt;{m}()&lt;/script&gt;"),
    "&#60;img src=/{m}.png onerror={m}()&#62;",
    "&quot;&gt;&lt;b class={m}&gt; &amp;amp; &#x3C;",
    # Spreadsheet formulas (the CSV export neutralises them).
    '=HYPERLINK("javascript:{m}()","x")',
    "@SUM(1+1)*cmd|'/C calc'!A0 {m}",
    "+cmd|'/c calc'!A1 {m}",
    "-2+3+cmd|' /C calc'!A0 {m}",
    # Very long attribute values (for the fields that take them).
    '<a title="' + "A" * 400 + '" href=javascript:{m}() id={m}>x</a>',
    "<img src=/{m}.png alt='" + "'\"><" * 100 + "' onerror={m}()>",
)


@dataclass(frozen=True)
class Payload:
    marker: str
    text: str


PAYLOADS: tuple[Payload, ...] = tuple(
    Payload(f"xss{n:02d}", template.replace("{m}", f"xss{n:02d}"))
    for n, template in enumerate(_TEMPLATES, start=1)
)
MARKERS: tuple[str, ...] = tuple(p.marker for p in PAYLOADS)
# The markers of the Inert payloads: every other one, written into a page unescaped,
# would make an element, an attribute, a request or a call that the tests look for.
INERT: frozenset[str] = frozenset(
    f"xss{n:02d}" for n, template in enumerate(_TEMPLATES, start=1) if isinstance(template, Inert)
)
