"""The newsroom's articles: an original, fictional story covered by three outlets.

Harbor City, a fictional port town, sells its water utility. The Harbor Ledger (metered
paywall, subscription prompt in the middle of the text, photo caption, byline, JSON-LD) breaks
the story, links to an explainer, and later rewrites its headline; the Bayside Courier (free)
follows up and cites the Ledger; the Northfield Gazette covers it without the story's key
words (only its vocabulary says it is the same story) and runs the Courier's piece as a
syndicated copy. All three feeds also carry unrelated local news. Everything here was written
for this project.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime


@dataclass(frozen=True)
class Revision:
    """One state of an article as its outlet serves it."""

    headline: str
    dek: str
    authors: tuple[str, ...]
    paragraphs: tuple[str, ...]
    modified: datetime
    caption: str | None = None
    correction: str | None = None
    # Template-only churn (an ad slot id, a script version) that must not make a version.
    template_nonce: int = 0
    # Overrides the article's access for this revision: "hard" or "registration" serve a teaser.
    access: str | None = None


@dataclass
class Article:
    outlet: str  # key into OUTLETS
    path: str
    section: str
    published: datetime
    access: str  # free | metered | hard
    revisions: list[Revision]
    links: tuple[tuple[str, str, str], ...] = ()  # (outlet key, path, anchor words) cited in the text
    scripted: list[Revision] = field(default_factory=list)  # revisions `publish()` reveals
    in_story: bool = True  # part of the water-sale story's coverage
    amp: bool = False  # also served as an AMP page at /amp<path>
    based_on: tuple[str, str] | None = None  # syndicated copy of (outlet key, path)
    link_query: str = ""  # tracking parameters on the links this article makes
    listed: bool = True  # appears in its outlet's feed and sitemaps
    # Links a story needs to follow to reach it from a feed or a sitemap: 2 for an article only
    # an article found in a feed links to (found on the pass after that one joins).
    hops: int = 1
    # Headlines the outlet A/B-tests: each request for the page serves the next one in turn.
    ab_headlines: tuple[str, ...] = ()

    @property
    def current(self) -> Revision:
        return self.revisions[-1]

    @property
    def current_access(self) -> str:
        return self.current.access or self.access

    @property
    def key(self) -> str:
        return f"{self.outlet}:{self.path}"


@dataclass(frozen=True)
class Outlet:
    key: str
    name: str
    host: str  # a loopback address of its own, so each outlet is its own site
    style: str  # which template renders it


OUTLETS = {
    "ledger": Outlet("ledger", "The Harbor Ledger", "127.0.0.1", "ledger"),
    "courier": Outlet("courier", "Bayside Courier", "127.0.0.2", "courier"),
    "gazette": Outlet("gazette", "Northfield Gazette", "127.0.0.3", "courier"),
}


def _utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


LEDGER_PATH = "/2026/11/03/metro/harbor-city-water-utility-sale.html"
COURIER_PATH = "/news/harbor-city-council-water-utility-vote"
EXPLAINER_PATH = "/2026/11/04/metro/tidewater-deal-what-it-means-for-your-bill.html"
GAZETTE_PATH = "/regional/harbor-city-waterworks-deal"
# Linked only from the Gazette's report (a feed candidate), listed nowhere.
NUMBERS_PATH = "/regional/harbor-city-water-sale-by-the-numbers"
WIRE_PATH = "/wire/harbor-city-weighs-selling-water-system"

_LEDGER_V1 = Revision(
    headline="Harbor City to Sell Its Water Utility to a Private Operator",
    dek="The council's plan would hand the century-old system to Tidewater Utilities, "
    "which promises new pipes and steady rates.",
    authors=("Mara Ellison", "Tomas Reyes"),
    caption="The Northgate pumping station, built in 1921, would pass to Tidewater Utilities "
    "under the agreement. Photo: Jun Park for The Harbor Ledger",
    modified=_utc(2026, 11, 3, 9, 0),
    paragraphs=(
        "Harbor City plans to sell its municipal water utility to Tidewater Utilities, a private "
        "operator based in Baltimore, for $410 million, ending more than a century of public "
        "ownership of the pipes, reservoirs and treatment plants that serve 180,000 residents.",
        "The agreement, negotiated over eleven months and released to the council late on "
        "Monday, would transfer the Northgate pumping station, the Alder Creek reservoir and "
        "roughly 900 miles of mains to the company at the start of next year.",
        "Mayor Celia Okafor said the sale would let the city retire most of its pension debt "
        "without raising property taxes. \u201cWe are choosing between fixing the pipes and "
        "fixing the budget,\u201d she said in an interview. \u201cThis lets us do both.\u201d",
        "Tidewater has pledged to spend $260 million over ten years replacing lead service "
        "lines and cast-iron mains, some of which date to the 1890s. The company would also "
        "freeze residential rates for three years, according to a summary of the deal.",
        "Opponents say the freeze hides the real cost. An analysis by the Harbor City "
        "Ratepayers Alliance projects that a typical household bill could rise by 40 percent "
        "within a decade, as the company recovers its investment through rate cases before "
        "the state utility commission.",
        "Council member Priya Natarajan, who chairs the finance committee, said she had not "
        "decided how she would vote. \u201cI want to see the rate schedule in writing, not in "
        "a press release,\u201d she said.",
        "The council is expected to vote on the agreement on Thursday. A public hearing on "
        "Wednesday evening drew more than 300 sign-ups for comment, a record for the chamber.",
        "Similar sales elsewhere have had mixed results. When nearby Port Alder sold its "
        "system in 2017, rates rose by a third within five years, but the city cleared a "
        "backlog of main breaks that had left neighborhoods without water for days.",
        "Union leaders representing 240 utility workers said they had received assurances "
        "that no jobs would be cut for two years, though the written agreement does not "
        "include that promise.",
        "The sale would still require approval from the state utility commission, a process "
        "that typically takes six to nine months.",
    ),
)

_LEDGER_V2 = replace(
    _LEDGER_V1,
    headline="Harbor City Council Approves $410 Million Sale of Water Utility Amid Protests",
    modified=_utc(2026, 11, 6, 23, 30),
    paragraphs=(
        _LEDGER_V1.paragraphs[0],
        _LEDGER_V1.paragraphs[1],
        _LEDGER_V1.paragraphs[2],
        _LEDGER_V1.paragraphs[3],
        _LEDGER_V1.paragraphs[4],
        "Council member Priya Natarajan, who chairs the finance committee, voted for the "
        "sale after Tidewater put its rate schedule in writing. \u201cI wanted it on paper, "
        "not in a press release, and now it is,\u201d she said.",
        "The council approved the agreement on Thursday by a vote of 7 to 4, as protesters "
        "outside City Hall chanted \u201cwater is not for sale.\u201d A public hearing the night "
        "before drew more than 300 sign-ups for comment, a record for the chamber.",
        *_LEDGER_V1.paragraphs[7:],
    ),
)

_COURIER_V1 = Revision(
    headline="Harbor City weighs selling water system; residents fear higher bills",
    dek="A $410 million deal with Tidewater Utilities goes to a council vote this week.",
    authors=("Dana Whitfield",),
    modified=_utc(2026, 11, 4, 14, 15),
    paragraphs=(
        "Harbor City is weighing a $410 million sale of its public water system to Tidewater "
        "Utilities, The Harbor Ledger reported on Tuesday, in a deal that would hand the "
        "utility to a private company for the first time since 1908.",
        "The agreement would transfer the city\u2019s reservoirs, treatment plants and "
        "pumping stations to Tidewater, which has promised to replace aging lead service "
        "lines and to hold residential rates flat for three years.",
        "Residents who spoke to the Courier on Wednesday were skeptical. \u201cThree years "
        "goes by fast,\u201d said Luis Ortega, who has run a laundromat on Bay Street for two "
        "decades and pays one of the largest water bills on the block.",
        "The Harbor City Ratepayers Alliance, a residents\u2019 group, estimates that bills "
        "could climb 40 percent over ten years once the freeze ends, according to an "
        "analysis it released this week.",
        "City officials say the proceeds would pay down pension debt that has weighed on the "
        "budget for years, and that the company is better placed than the city to finance "
        "repairs to a system that suffered 112 main breaks last year.",
        "The council is scheduled to vote Thursday. The state utility commission would also "
        "have to approve the sale, which could take until next summer.",
    ),
)

_COURIER_LINKS = (("ledger", LEDGER_PATH, "The Harbor Ledger"),)

_EXPLAINER = Revision(
    headline="What the Tidewater deal means for your water bill",
    dek="Rates are frozen for three years. After that, the state utility commission decides.",
    authors=("Tomas Reyes",),
    modified=_utc(2026, 11, 4, 8, 0),
    paragraphs=(
        "Under the agreement with Tidewater Utilities, residential water rates in Harbor City would stay "
        "where they are for three years after the sale closes, according to the summary released by the "
        "mayor's office.",
        "After the freeze, Tidewater would have to ask the state utility commission for any increase, in "
        "a rate case that includes public hearings. Private operators typically seek increases to recover "
        "spending on pipes and treatment plants.",
        "The Harbor City Ratepayers Alliance estimates a typical bill could rise 40 percent within a "
        "decade. The mayor's office disputes that figure and says the company's capital plan would be "
        "spread over thirty years.",
        "Customers who struggle to pay would keep access to the city's assistance program for at least "
        "five years, the summary says, though eligibility rules after that are not spelled out.",
    ),
)

_GAZETTE_REPORT = Revision(
    headline="Northfield watches as Harbor City hands its waterworks to a private company",
    dek="The port town's $410 million deal is being studied by councils up and down the coast.",
    authors=("Ines Carvalho",),
    modified=_utc(2026, 11, 5, 10, 0),
    paragraphs=(
        "Harbor City's decision to sell its municipal waterworks for $410 million is being followed "
        "closely in Northfield, where aging pipes and pension debt have strained the budget for years.",
        "The deal would hand the Northgate pumping station, the Alder Creek reservoir and the mains "
        "beneath Harbor City's streets to a private operator, which has promised to replace lead service "
        "lines and to freeze residential rates for three years.",
        "Mayor Celia Okafor of Harbor City has said the sale lets her city retire most of its pension "
        "debt without raising property taxes. Northfield's finance director said the town would study "
        "the agreement before considering anything similar.",
        "The Harbor City Ratepayers Alliance warns that household bills could rise by 40 percent within "
        "a decade once the freeze ends, as the operator recovers its investment through rate cases before "
        "the state commission.",
        "Union leaders representing 240 workers in Harbor City said they had been promised two years "
        "without job cuts, a promise that does not appear in the written agreement.",
        "How the $410 million would be spent is set out in the city's own figures, which Northfield's "
        "finance director has asked his staff to compare with the town's accounts.",
    ),
)

_NUMBERS = Revision(
    headline="Harbor City's water utility sale, by the numbers",
    dek="Where the $410 million from Tidewater Utilities would go, line by line.",
    authors=("Ines Carvalho",),
    modified=_utc(2026, 11, 5, 12, 0),
    paragraphs=(
        "Harbor City would receive $410 million from Tidewater Utilities for its water utility, according "
        "to figures the city's finance office released with the agreement on Wednesday.",
        "About $290 million would retire pension debt, $60 million would repay bonds issued for the "
        "Northgate pumping station, and $35 million would go to a fund for lead service line replacement.",
        "The remaining $25 million would cover the transaction's legal and advisory fees and a reserve "
        "for the transition, the finance office said.",
        "Tidewater has committed to spend $180 million on the system's pipes and treatment plants over "
        "its first decade, an investment it would recover through water rates after the three-year freeze.",
    ),
)

# Unrelated local news that shares the feeds (and some words: "Harbor City", "waterfront").
_UNRELATED = {
    ("ledger", "/2026/11/02/metro/ferry-fares-rise-in-january.html", "Metro"): Revision(
        headline="Ferry fares to rise 5 percent in January",
        dek="The harbor authority says fuel and crew costs drove the increase.",
        authors=("Mara Ellison",),
        modified=_utc(2026, 11, 2, 7, 0),
        paragraphs=(
            "A one-way ferry ticket between Harbor City and the islands will cost $4.20 from January, up "
            "from $4, the harbor authority announced on Sunday.",
            "Officials blamed higher fuel prices and a new contract for deckhands and engineers, and said "
            "monthly passes for commuters would rise by the same share.",
            "Riders at the downtown terminal were resigned. A nurse who crosses twice a day said the "
            "increase would cost her about ninety dollars a year.",
            "The authority will hold a public meeting on the schedule for next summer in December.",
        ),
    ),
    ("ledger", "/2026/11/01/sports/marathon-route-adds-waterfront-loop.html", "Sports"): Revision(
        headline="Harbor City Marathon route adds a waterfront loop",
        dek="Runners will pass the old lighthouse for the first time.",
        authors=("Jun Park",),
        modified=_utc(2026, 11, 1, 12, 0),
        paragraphs=(
            "The Harbor City Marathon will add a two-mile loop along the waterfront next spring, taking "
            "runners past the old lighthouse and the fish market for the first time.",
            "Race organizers said the change replaces a stretch of highway that drew complaints from "
            "runners and from drivers stuck in traffic for hours.",
            "Registration opens on December 1, and organizers expect more than 6,000 entrants.",
            "Volunteers are still needed for water stations along the new loop, they said.",
        ),
    ),
    ("courier", "/news/library-extends-weekend-hours", "Community"): Revision(
        headline="Bayside library extends weekend hours",
        dek="The main branch will open on Sundays from January.",
        authors=("Dana Whitfield",),
        modified=_utc(2026, 11, 3, 16, 0),
        paragraphs=(
            "The Bayside public library will open its main branch on Sundays from January, the first time "
            "in a decade, after a donation from a local foundation covered the added staff costs.",
            "Librarians said weekend visits had doubled since the reading room was renovated last year.",
            "The children's section will host story hours on Sunday mornings, and the study rooms will be "
            "available until 8 p.m.",
        ),
    ),
    ("courier", "/news/bay-street-bakery-turns-50", "Community"): Revision(
        headline="Bay Street bakery celebrates 50 years with free rolls",
        dek="Three generations of one family have run the ovens since 1976.",
        authors=("Luis Ortega",),
        modified=_utc(2026, 11, 4, 9, 0),
        paragraphs=(
            "The Marino family bakery on Bay Street turned fifty this week, and handed out a free roll to "
            "every customer who came through the door on Saturday.",
            "Rosa Marino, who runs the shop with her son and granddaughter, said the recipe for the "
            "sourdough had not changed since her father opened the place.",
            "The line stretched around the block by nine in the morning, neighbors said.",
        ),
    ),
    ("gazette", "/sports/panthers-win-county-title", "Sports"): Revision(
        headline="Panthers win county title in overtime",
        dek="A late field goal sealed Northfield's first championship since 2009.",
        authors=("Ben Okoro",),
        modified=_utc(2026, 11, 2, 22, 0),
        paragraphs=(
            "Northfield High's Panthers won the county football title on Saturday night, beating Eastport "
            "24 to 21 in overtime on a field goal from 38 yards.",
            "The Panthers trailed by ten points at halftime before their defense forced three turnovers.",
            "It is the school's first championship since 2009. The team plays in the regional semifinal next weekend.",
        ),
    ),
    ("gazette", "/local/school-board-delays-start-time-vote", "Local"): Revision(
        headline="School board delays vote on later start times",
        dek="Parents asked for more time to weigh the effect on bus routes.",
        authors=("Grace Liu",),
        modified=_utc(2026, 11, 3, 21, 0),
        paragraphs=(
            "The Northfield school board postponed a vote on moving the high school's first bell to 8:30 "
            "a.m., after parents said they needed more time to understand the effect on bus routes.",
            "Supporters of the change cited research on teenagers' sleep. Opponents worried about after-"
            "school jobs and sports practices running late.",
            "The board will take up the question again in January.",
        ),
    ),
    ("gazette", "/local/farmers-market-moves-indoors", "Local"): Revision(
        headline="Farmers market moves indoors for the winter",
        dek="Vendors will set up in the old armory on Saturdays.",
        authors=("Hugo Berg",),
        modified=_utc(2026, 11, 4, 11, 0),
        paragraphs=(
            "Northfield's farmers market will move into the old armory on Saturdays from December through "
            "March, the town's recreation department said.",
            "About thirty vendors have signed up, selling apples, cheese, bread and honey.",
            "The armory's heating system was repaired this fall with money from the town's capital budget.",
        ),
    ),
}


def build_articles() -> dict[str, Article]:
    """A fresh copy of the newsroom's articles (each newsroom instance mutates its own)."""
    ledger = Article(
        outlet="ledger",
        path=LEDGER_PATH,
        section="Metro",
        published=_utc(2026, 11, 3, 9, 0),
        access="metered",
        revisions=[_LEDGER_V1],
        scripted=[_LEDGER_V2],
        links=(("ledger", EXPLAINER_PATH, "freeze residential rates"),),
        link_query="?utm_source=ledger&utm_medium=related",
        amp=True,
    )
    courier = Article(
        outlet="courier",
        path=COURIER_PATH,
        section="News",
        published=_utc(2026, 11, 4, 14, 15),
        access="free",
        revisions=[_COURIER_V1],
        links=_COURIER_LINKS,
        link_query="?utm_source=courier&utm_medium=referral",
    )
    explainer = Article(
        outlet="ledger",
        path=EXPLAINER_PATH,
        section="Metro",
        published=_utc(2026, 11, 4, 8, 0),
        access="metered",
        revisions=[_EXPLAINER],
    )
    gazette = Article(
        outlet="gazette",
        path=GAZETTE_PATH,
        section="Regional",
        published=_utc(2026, 11, 5, 10, 0),
        access="free",
        revisions=[_GAZETTE_REPORT],
        amp=True,
        links=(("gazette", NUMBERS_PATH, "the city's own figures"),),
    )
    numbers = Article(
        outlet="gazette",
        path=NUMBERS_PATH,
        section="Regional",
        published=_utc(2026, 11, 5, 12, 0),
        access="free",
        revisions=[_NUMBERS],
        listed=False,
        hops=2,
    )
    wire = Article(
        outlet="gazette",
        path=WIRE_PATH,
        section="Wire",
        published=_utc(2026, 11, 4, 15, 0),
        access="free",
        revisions=[_COURIER_V1],
        based_on=("courier", COURIER_PATH),
    )
    unrelated = [
        Article(
            outlet=outlet,
            path=path,
            section=section,
            published=revision.modified,
            access="metered" if outlet == "ledger" else "free",
            revisions=[revision],
            in_story=False,
        )
        for (outlet, path, section), revision in _UNRELATED.items()
    ]
    ab_test = Article(
        outlet="courier",
        path=AB_TEST_PATH,
        section="News",
        published=_AB_TEST.modified,
        access="free",
        revisions=[_AB_TEST],
        in_story=False,
        listed=False,
        ab_headlines=AB_HEADLINES,
    )
    articles = (ledger, courier, explainer, gazette, numbers, wire, *unrelated, ab_test)
    return {article.key: article for article in articles}


# An unlisted Courier article whose headline alternates between two variants on every request.
AB_TEST_PATH = "/news/2026/11/06/harbor-pool-reopens/"
AB_HEADLINES = (
    "Harbor City pool reopens after two-year repair",
    "After two years and $3 million, the Harbor City pool is open again",
)
_AB_TEST = Revision(
    headline=AB_HEADLINES[0],
    dek="Swimmers lined up before dawn for the first lanes.",
    authors=("Dana Whitfield",),
    modified=_utc(2026, 11, 6, 8, 0),
    paragraphs=(
        "The municipal pool on Pier Street reopened on Friday after a two-year repair of its leaking basin "
        "and its heating plant, and about two hundred swimmers came on the first morning.",
        "The repair cost $3 million, most of it from a state grant. The parks department said the new "
        "heat pumps would halve the pool's energy bill.",
        "Lessons for children start again next week. Early-morning lap swimming is free for residents "
        "until the end of the year.",
    ),
)


STORY_SLUG = "harbor-city-water-sale"
STORY_TITLE = "Harbor City sells its water utility"
