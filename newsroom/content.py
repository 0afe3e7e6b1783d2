"""The newsroom's articles: an original, fictional story covered by two outlets.

Harbor City, a fictional port town, sells its water utility. The Harbor Ledger (metered
paywall, subscription prompt in the middle of the text, photo caption, byline, JSON-LD) breaks
the story and later rewrites its headline and corrects a figure; the Bayside Courier (free)
follows up and cites the Ledger. Everything here was written for this project.
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
    links: tuple[tuple[str, str], ...] = ()  # (outlet key, path) cited in the text
    scripted: list[Revision] = field(default_factory=list)  # revisions `publish()` reveals

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
}


def _utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


LEDGER_PATH = "/2026/11/03/metro/harbor-city-water-utility-sale.html"
COURIER_PATH = "/news/harbor-city-council-water-utility-vote"

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

_COURIER_LINKS = (("ledger", LEDGER_PATH),)


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
    )
    courier = Article(
        outlet="courier",
        path=COURIER_PATH,
        section="News",
        published=_utc(2026, 11, 4, 14, 15),
        access="free",
        revisions=[_COURIER_V1],
        links=_COURIER_LINKS,
    )
    return {article.key: article for article in (ledger, courier)}


STORY_SLUG = "harbor-city-water-sale"
STORY_TITLE = "Harbor City sells its water utility"
