"""Paywall markers and boilerplate phrases, in one place (the shape of trafilatura's xpaths.py).

Each group says where its entries were seen. Phrase patterns are matched case-insensitively
against one paragraph at a time, after whitespace is collapsed. Prompts are *calls to action*
("Subscribe to continue reading"), never topics: an article sentence about subscribers or
newsletters ("Netflix added 2 million subscribers") must not match, which is why most
patterns are anchored to the start of a short paragraph.
"""

from __future__ import annotations

import re


class PhraseSet:
    """A group of case-insensitive patterns, split so that the common case is cheap.

    Patterns anchored with ``^`` are tried at the start of the text only (``match``); the
    others are searched. Most prompts are anchored, so most paragraphs fail in one step.

    Patterns are written in lower case and matched against the lower-cased text: Python's
    IGNORECASE makes these alternations several times slower.
    """

    def __init__(self, *patterns: str) -> None:
        anchored = [p[1:] for p in patterns if p.startswith("^")]
        floating = [p for p in patterns if not p.startswith("^")]
        self._anchored = re.compile("|".join(f"(?:{p})" for p in anchored)) if anchored else None
        self._floating = re.compile("|".join(f"(?:{p})" for p in floating)) if floating else None

    def search(self, text: str) -> bool:
        text = text.lower()
        return bool(
            (self._anchored is not None and self._anchored.match(text))
            or (self._floating is not None and self._floating.search(text))
        )


# --- Metered paywalls: a counter of free articles left ---------------------------------------
# NYT ("You have 4 free articles remaining"), Washington Post, The Atlantic, Bloomberg,
# Spiegel, Le Monde, El País meters.
METER_PROMPT = PhraseSet(
    r"\byou have (?:\d+|one|two|three|four|five|six|seven|eight|nine|ten|no) (?:more )?(?:free |complimentary )?"
    r"(?:articles?|stories|story|gift articles?) (?:left|remaining)\b",
    r"\bthis is your (?:last|final) (?:free |complimentary )?(?:article|story)\b",
    r"\byou(?:'ve| have) (?:read|reached|used) (?:all (?:of )?your|your|\d+ of (?:your )?\d*) ?(?:free |complimentary )?"
    r"(?:articles?|stories)\b",
    r"\b(?:\d+|one|two|three) free (?:articles?|stories) (?:left|remaining)\b",
    r"\byou(?:'ve| have) reached your (?:monthly |free )?(?:article )?limit\b",
    r"\bsie haben (?:noch )?\d+ (?:von \d+ )?(?:kostenlose[n]? |freie[n]? )?artikel\b",
    r"\bil vous reste \d+ articles?\b",
    r"\bvous avez (?:lu|atteint) \d+ (?:de vos |sur \d+ )?articles?\b",
    r"\bte quedan? \d+ (?:artículos|noticias|contenidos)\b",
    r"\bhas (?:leído|consumido) \d+ de (?:los )?\d+ (?:artículos|contenidos|noticias)\b",
    # Counters as a fraction or an ordinal ("This is your 2nd of 5 complimentary articles").
    r"\bthis is your (?:\d+(?:st|nd|rd|th)|first|second|third|fourth|fifth|last|final) (?:of (?:your )?\d+ )?"
    r"(?:free |complimentary |gift )?(?:articles?|stories|story)\b",
    r"\byou(?:'re| are) (?:now )?reading your (?:\d+(?:st|nd|rd|th)|first|second|third|fourth|fifth|last|final) "
    r"(?:of \d+ )?(?:free |complimentary )?(?:article|story)\b",
    r"\b\d+ ?(?:/|of|out of) ?\d+ (?:free|complimentary) (?:articles?|stories)\b",
    r"\b(?:free|complimentary) (?:articles?|stories) (?:read|used)?:? ?\d+ ?(?:/|of|out of) ?\d+\b",
    r"\b(?:dies ist ihr|sie lesen (?:gerade )?ihren) \d+\. (?:von \d+ )?(?:kostenlosen |freien |gratis-?)artikel",
    r"\b\d+ von \d+ (?:kostenlosen|freien) artikeln?\b",
    r"\b(?:ceci est|vous lisez) votre \d+(?:e|ème|er) article (?:gratuit|offert)\b",
    r"\b\d+ articles? (?:gratuits?|offerts?) sur \d+\b",
    r"\beste es tu (?:\d+º? |primer |segundo |tercer |último )?artículo (?:gratuito|gratis)\b",
    r"\bartículos? (?:gratuitos?|gratis) \d+ de \d+\b",
)

# --- Subscription walls: the text stops here for non-subscribers -----------------------------
# WSJ ("To Read the Full Story", "Subscribe for unlimited access"), FT, The Times (UK),
# Zeit/Spiegel "Plus" ("Weiterlesen mit Z+"), Le Monde ("réservé aux abonnés"), El País.
HARD_PROMPT = PhraseSet(
    r"^(?:please )?subscribe (?:now )?to (?:continue|keep) reading\b",
    r"^to (?:continue|keep) reading,? (?:please )?(?:subscribe|become a subscriber|log in|sign in)\b",
    r"^(?:to )?read the full (?:story|article)\b",
    r"^subscribe (?:now )?(?:to|and) (?:read|unlock|get) (?:the )?(?:full|rest|whole|unlimited)\b",
    r"^subscribe for (?:unlimited|full) (?:digital )?access\b",
    r"\bthis (?:article|story|content|post) is (?:only available|exclusive|reserved|available only) (?:to|for) "
    r"(?:paying |premium |our )?(?:subscribers|members)\b",
    # A label alone ("Members only"), never a sentence ("Members only had two days to vote").
    r"^(?:for )?(?:paid |paying |premium )?(?:subscribers|members)[- ]only(?: (?:story|content|post|article|episode|access))?"
    r"(?:[.!:]|$)",
    r"^(?:paid |premium )?member[- ]only(?: (?:story|content|post|article|episode))?[.!]?$",
    r"^exclusive (?:to|for) (?:paid |premium )?(?:members|subscribers)[.!]?$",
    r"^(?:nur für (?:mitglieder|abonnenten)|exklusiv für mitglieder|mitglieder-?exklusiv)[.!]?$",
    r"^(?:contenu )?r[ée]serv[ée]e? aux membres[.!]?$",
    r"^(?:contenido )?(?:solo|sólo|exclusivo) para (?:miembros|socios)[.!]?$",
    r"^this (?:article|story|content|post) is for (?:paid |paying |premium )?(?:subscribers|members) only\b",
    # Hard-wall notices ("Subscribers can read the full story by logging in").
    r"^(?:only )?(?:paying |paid )?(?:subscribers|members) can (?:read|access|view|continue reading) "
    r"(?:the (?:full|whole|complete|rest of the) |this |the )?(?:story|article|piece|text)\b",
    r"^the (?:full|complete|whole) (?:article|story|text) is (?:only )?(?:available|accessible) (?:to|for) "
    r"(?:paying |paid )?(?:subscribers|members)\b",
    r"^(?:log|sign) in to (?:read|access|view) (?:the (?:full|whole|complete|rest of the)|this) (?:article|story)\b",
    r"^(?:nur )?abonnenten können (?:den|diesen) (?:vollständigen |ganzen )?(?:artikel|beitrag|text) lesen\b",
    r"^(?:seuls )?les abonn[ée]s peuvent (?:lire|acc[ée]der [àa]) (?:la suite|cet article|l'article|l’article)\b",
    r"^(?:solo |sólo )?los (?:suscriptores|abonados) pueden (?:leer|acceder a) (?:el|este|la)\b",
    r"^already a (?:subscriber|member)\??\s*(?:log|sign) ?in\b",
    r"^already (?:have an account|a subscriber)\?",
    r"^continue reading (?:your article )?with (?:a|an|one of our) (?:\w+ )?(?:subscription|membership)\b",
    r"^(?:unlock|access) (?:this|the full) (?:article|story)\b",
    r"^(?:get|enjoy) unlimited (?:digital )?access\b",
    r"^become a (?:subscriber|member) (?:to|and) (?:read|continue|unlock)\b",
    r"^the rest of this (?:article|story) is (?:for|available to) (?:subscribers|members)\b",
    r"\bweiterlesen mit\b",
    r"\b(?:dieser artikel|dieser beitrag|der vollständige artikel) ist (?:nur )?(?:exklusiv )?für (?:abonnenten|abonnentinnen)\b",
    r"\bexklusiv für (?:abonnenten|abonnentinnen|abonnierende)\b",
    r"^(?:jetzt )?(?:abonnieren|abo abschließen) und weiterlesen\b",
    r"^sie sind bereits abonnent",
    r"\b(?:cet article est |la suite est |article )?r[ée]serv[ée]e? aux abonn[ée]s\b",
    r"^d[ée]j[àa] abonn[ée]\s*\?",
    r"^abonnez-vous pour (?:lire|continuer|acc[ée]der)\b",
    r"^pour lire la suite\b",
    r"\b(?:contenido )?exclusivo para (?:suscriptores|abonados)\b",
    r"^¿ya eres (?:suscriptor|abonado)",
    r"^suscr[íi]bete para (?:seguir|continuar) leyendo\b",
    r"^para (?:seguir|continuar) leyendo\b",
)

# --- Registration walls: free, but only after signing up --------------------------------------
# The Telegraph/Times "register for free", Spiegel "kostenlos registrieren", Le Figaro.
REGISTRATION_PROMPT = PhraseSet(
    r"^(?:please )?(?:register|sign up) (?:for free |for a free account )?to (?:continue|keep) reading\b",
    r"^create (?:a|your) free account to (?:continue|keep reading|read)\b",
    r"^(?:log|sign) in or (?:register|sign up) to (?:continue|read)\b",
    r"^(?:please )?(?:log|sign) in to (?:continue|keep) reading\b",
    r"^this (?:article|story) is free (?:to read )?(?:for|to) registered (?:users|readers)\b",
    r"^register (?:now )?for free\b",
    r"\b(?:jetzt )?kostenlos registrieren und weiterlesen\b",
    r"^registrieren sie sich (?:kostenlos )?(?:und|um)",
    r"^inscrivez-vous gratuitement pour (?:lire|continuer)\b",
    r"^cr[ée]ez (?:un|votre) compte gratuit\b",
    r"^reg[íi]strate (?:gratis )?para (?:seguir|continuar) leyendo\b",
    # Registration perks ("Sign up free to unlock more stories each month").
    r"^(?:sign up|register|create (?:a|an|your) (?:free )?account)(?: for free| free| now| today)?,? (?:to|and) "
    r"(?:unlock|get|read|enjoy|access|keep reading) (?:more|unlimited|extra|additional|\d+|free|all)\b",
    r"^(?:log|sign) in or create (?:a|an|your) (?:free )?account\b",
    r"^(?:jetzt )?kostenlos registrieren\b",
    r"^melden sie sich (?:jetzt )?kostenlos an\b",
    r"^inscrivez-vous gratuitement\b",
    r"^reg[íi]strate gratis\b",
    r"^crea (?:tu|una) cuenta (?:gratis|gratuita)\b",
)

# --- Subscription pitches that do not gate the text ---------------------------------------------
# "Subscribe Now" buttons (WSJ, Rolling Stone, The Athletic), "Become a Subscriber" (NFL.com),
# membership appeals (The Guardian, public media).
SUBSCRIBE_PROMO = PhraseSet(
    r"^subscribe(?: now| today)?[.!]?$",
    r"^subscribe (?:now|today)\b",
    r"^please subscribe\b",
    r"^become an? (?:subscriber|member|supporter)\b",
    r"^(?:click here to )?subscribe to (?:the |our )?[\w.’'& -]{1,40}$",
    r"^support (?:our|independent|quality) journalism\b",
    r"^(?:jetzt )?abonnieren[.!]?$",
    r"^jetzt abonnieren\b",
    r"^abonnez-vous\b",
    r"^suscr[íi]bete\b",
    r"^get access to .{0,60}\bsubscriptions? service\b",
    # Support asks on free sites ("Our journalism depends on readers like you: chip in").
    r"\b(?:depends|relies|counts) on (?:readers|people|supporters|listeners|viewers|members) like you\b.{0,100}"
    r"\b(?:chip in|donat|contribut|support|become a (?:member|supporter)|join)",
    r"^(?:please )?(?:chip in|donate|make a (?:donation|contribution))(?: now| today| here)?"
    r"(?: to (?:support )?(?:us|our \w+))?[.!]?$",
    r"^chip in\b",
    r"^if you (?:value|like|enjoy|appreciate|rely on) (?:our|this|what we)\b.{0,120}\b(?:please )?(?:consider )?"
    r"(?:support|donat|chip in|contribut|becom)",
    r"^support (?:our|independent|quality|local|nonprofit|non-profit) (?:journalism|reporting|news(?:room)?)\b",
    r"^unterstützen sie (?:unseren|unabhängigen|guten) journalismus\b",
    r"^jetzt spenden\b",
    r"^soutenez (?:notre|le|un) (?:journalisme|rédaction|information)\b",
    r"^faites un don\b",
    r"^apoya (?:nuestro|el) periodismo\b",
    r"^haz una donación\b",
    # Link-only offers ("View subscription plans").
    r"^(?:view|see|compare|explore|check out|browse) (?:all |our )?(?:subscription |digital |membership )?"
    r"(?:plans|offers|options|packages|pricing)(?: and pricing)?[.!›»>→]?$",
    r"^(?:alle )?(?:abo-?angebote|angebote) (?:ansehen|anzeigen|entdecken)[.!›»>→]?$",
    r"^zu den (?:abo-?)?angeboten[.!›»>→]?$",
    r"^(?:voir|découvrir|d[ée]couvrez) (?:les|nos) offres(?: d'abonnement| d’abonnement)?[.!›»>→]?$",
    r"^(?:ver|consulta|descubre) (?:los |nuestros )?(?:planes|ofertas)(?: de suscripci[óo]n)?[.!›»>→]?$",
)

# --- Newsletter and app pitches ------------------------------------------------------------------
# NJ.com, IndieWire, CBS Sports, Business Insider, The Paradigm, Fox News ("GET THE APP").
NEWSLETTER_PROMO = PhraseSet(
    r"^(?:click here to )?(?:sign up|subscribe|register) (?:here )?(?:for|to) (?:our|the|a|his|her) .{0,60}newsletters?\b",
    r"^sign up:",
    r"^(?:get|receive) (?:the|our) .{0,80}\b(?:delivered )?(?:to|in) your inbox\b",
    r"^get the latest .{0,60}(?:right )?in your inbox\b",
    r"\bsign up for (?:our|the) .{0,40}(?:newsletter|email)s?(?: here)?[.!]?$",
    r"^(?:newsletter|email) sign[- ]?up\b",
    r"^thanks for (?:signing up|subscribing)\b",
    r"^keep an eye on your inbox\b",
    r"^there was an error processing your subscription\b",
    r"^you can also subscribe to this newsletter\b",
    r"\bnewsletter (?:abonnieren|bestellen)\b",
    r"^inscrivez-vous (?:à|a) (?:notre|la) newsletter\b",
    r"^suscr[íi]bete a (?:nuestro|nuestra) (?:newsletter|bolet[íi]n)\b",
    r"^(?:click here to )?get the .{0,30}\bapp\b",
    r"^get .{0,30} on the go by clicking here\b",
    r"^download (?:the|our) .{0,30}\bapp\b",
)

# --- Page furniture: ad labels, jump links, share and follow prompts, related-links heads ------
# NYT "Advertisement" / "Continue reading the main story", Washington Post "Story continues
# below advertisement", German "Anzeige", CNN "Read More", Express "SEE MORE:", Sun "Most read".
FURNITURE = PhraseSet(
    r"^(?:advertisement|advertising|ad|sponsored|anzeige|werbung|publicit[ée]|publicidad|pubblicit[àa])$",
    r"^(?:skip|continue reading (?:the )?main story|story continues below(?: advertisement| this ad)?|"
    r"article continues below(?: advertisement)?|scroll to continue(?: with content)?)[.]?$",
    r"^continue reading (?:the )?main story\b",
    r"^(?:read more|more|weiterlesen|lire aussi|lire la suite|leer m[áa]s|see also|also read|related|"
    r"related (?:articles|stories|coverage|content|post)|recommended(?: for you)?|you (?:may|might) also like|"
    r"more (?:from|on) .{1,40}|most (?:read|popular)(?: in .{1,30})?|popular on .{1,30}|don'?t miss|"
    r"what to read next|trending(?: now)?|top stories)[:.…]*$",
    r"^(?:read more|see more|related|more|also|read|watch|listen|also on [\w.]+)\s*:\s*\S",
    r"^\[?related:",
    r"^(?:share|share this|share this (?:article|story)|share on \w+|tweet|email|print|comments?|"
    r"\d+ comments?|show comments|leave a comment|view comments)[.:]?$",
    r"^like this (?:story|article)\? share it\b",
    r"^(?:filed under|tags|topics|categories|more about|mehr zum thema|sur le m[êe]me sujet|temas)\s*:",
    r"^more great [\w.]+ stories\b",
    r"^tell us what you think\b",
    r"^follow (?:us|@?[\w .]{1,40}) on (?:twitter|facebook|instagram|linkedin|youtube|tiktok)\b",
    r"^follow (?:the )?[\w .]{1,60} (?:section )?on facebook, twitter\b",
    r"^subscribe to [\w .]{1,40} on youtube\b",
    r"^(?:copyright|©|\(c\)) .{0,80}(?:all rights reserved|\d{4})",
    r"\ball rights reserved\.?$",
    r"^this copy is for your personal,? non-commercial use only\b",
    r"^(?:sorry!?|oops!?)$",
)

# Every METER/HARD/REGISTRATION/SUBSCRIBE/NEWSLETTER pattern above contains one of these
# (lower-cased) substrings, so a paragraph with none of them skips those regexes entirely.
PROMPT_KEYWORDS = (
    "subscri", "abonn", "suscr", "regist", "regíst", "sign", "log", "member", "access", "artic", "artíc",
    "stor", "noticia", "contenid", "newsletter", "inbox", "app", "read", "lire", "lesen", "leyend", "unlock",
    "support", "inscri", "compte", "account", "kostenlos", "gratuit", "gratis", "exklusiv", "réserv", "reserv",
    "exclusiv", "artikel", "queda", "reste", "bolet", "complimentary", "mitglied", "membre", "miembro", "socio",
    "donat", "un don", "chip in", "spend", "contribut", "plans", "pricing", "offers", "offre", "oferta", "angebot",
    "unterstütz", "soutenez", "apoya", "cuenta", "melden",
)  # fmt: skip
PROMPT_KEYWORD = re.compile("|".join(map(re.escape, PROMPT_KEYWORDS)))

# --- Byline and dateline lines that belong in metadata, not the body --------------------------
BYLINE_LINE = re.compile(r"^(?:by|von|par|por|di|door)\s+\S.{0,120}$", re.IGNORECASE)
DATELINE_LINE = PhraseSet(
    r"^(?:published|updated|posted|last updated|modified|ver[öo]ffentlicht|aktualisiert|publi[ée]|mis à jour|"
    r"publicado|actualizado)(?: on| at| am| le| el)?:?\s+.{3,60}$",
    r"^\d{1,2}:\d{2}\s*(?:am|pm)?\s*\w{0,4}\s+\d{1,2}/\d{1,2}/\d{2,4}\b.{0,60}$",
    r"^\d+\s*(?:min(?:ute)?s?|minuten)\.? (?:read|lesezeit|de lecture)$",
    r"^(?:tempo de leitura|lesezeit|temps de lecture|tiempo de lectura)\s*:?",
)

# --- Photo captions and credits: kept apart from the body --------------------------------------
# Slash credits (NYT "Mark Schiefelbein/Associated Press"), "Photo: ..." (most papers),
# "(Image credit: ...)" (Space.com), "AFP via Getty Images".
CAPTION_CREDIT = re.compile(
    # Case matters for slash credits: "Name Name/Agency", never "pic.twitter.com/abc".
    r"(?:\b[A-Z][\w.'’-]+(?: [A-Z][\w.'’-]+){0,3}/[A-Z][\w.&'’-]*(?: [A-Z][\w.&'’-]*){0,4}\.?$)"
    r"|(?i:(?:^|\s)(?:photo|photograph|image|picture|credit|foto|bild)(?: credit)?\s*:\s*[^.]{2,80}\.?$)"
    r"|(?i:\((?:image|photo) credit:[^)]{2,80}\)$)"
    r"|(?i:\b(?:via|for) getty images\.?$)"
    r"|(?i:\bgetty images(?: for [^.]{1,40})?\.?$)"
)

# --- Vendor paywall markup: class/id tokens and script hosts ------------------------------------
# Piano / Tinypass: tp-modal, tp-backdrop, tp-container (and tinypass.com / piano.io scripts).
# poool: #poool-widget, .poool-paywall. Steady: .steady-paywall, steadyhq.com. LaterPay:
# .lp_*, laterpay.net. Generic: paywall, regwall, meter prompts, subscriber-only blocks.
VENDOR_TOKEN = re.compile(
    # Piano's own class names only: "tp-news" on a news site is a top-news box, not Piano.
    r"^(?:tp-(?:modal|backdrop|container|iframe|active|close|template|offer|meter|paywall|inline)[\w-]*|"
    r"poool[\w-]*|steady-[\w-]+|laterpay[\w-]*|lp_[\w-]+|piano-[\w-]+|pn-[\w-]*paywall[\w-]*)$",
    re.IGNORECASE,
)
# Containers that hold a wall or a meter: evidence of a paywall, and removed.
PAYWALL_CONTAINER_TOKEN = re.compile(
    r"(?:paywall|regwall|reg-wall|meter(?:ed)?[-_]?(?:prompt|banner|bar|message|notice|counter)|"
    r"subscri(?:be|ption)[-_]?wall|premium[-_]?(?:banner|prompt|teaser))",
    re.IGNORECASE,
)
# Containers that pitch a subscription or a newsletter: removed, but no evidence of a paywall
# (free sites have sign-up boxes too).
PROMO_CONTAINER_TOKEN = re.compile(
    r"(?:subscri(?:be|ption)[-_]?(?:prompt|cta|banner|box|promo|offer|module)|"
    r"newsletter[-_]?(?:signup|sign-up|promo|cta|box|form|module)|signup[-_]?(?:form|box|promo)|"
    r"inline[-_]?(?:promo|newsletter))",
    re.IGNORECASE,
)
VENDOR_SCRIPT_HOST = re.compile(
    r"tinypass\.com|piano\.io|poool\.fr|steadyhq\.com|laterpay\.net|pelcro\.com|zephr|evolok|cxense",
    re.IGNORECASE,
)
# Substrings of class/id that make an element worth a closer look: vendor and prompt markup,
# captions and credits, standfirsts, inline hover cards. Matched against the lower-cased class
# and id values of the whole page, joined into one string (one regex scan per page).
MARKUP_HINT = re.compile(
    r"tp-|poool|steady|laterpay|lp_|piano|paywall|regwall|reg-wall|meter|subscri|premium|newsletter|signup|promo|"
    r"caption|credit|dek|deck|standfirst|summary|ubtitle|ubheadline|subhed|excerpt|rollover-people-block|"
    r"hovercard|tooltip-content|popover-content|correction|clarification|editor"
)
VENDOR_DATA_ATTRIBUTES = ("data-subscription", "data-premium", "data-paywall", "data-piano", "data-tp")

# --- Inline widgets whose text must not run into the sentence around them ---------------------
# The Hill's people hover cards (span.rollover-people-block) insert a name and headlines
# in the middle of a sentence; tooltips and footnote popovers do the same.
INLINE_JUNK_CLASSES = ("rollover-people-block", "hovercard", "tooltip-content", "popover-content")

# --- content_tier values (article:content_tier meta) -------------------------------------------
CONTENT_TIER_GATED = frozenset({"metered", "locked", "premium", "subscriber", "subscription", "paid"})
CONTENT_TIER_FREE = frozenset({"free", "open"})
