"""Generated articles for scale: as many plausible local-news stories as a test needs.

Deterministic (article ``n`` is always the same text), rendered with the outlets' real
templates, so extraction, versioning and storage do real work on them. They are served at
``/gen/<n>.html`` by a newsroom started with ``generated=N``.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from palimpsest.newsroom.content import OUTLETS, Article, Revision

_SUBJECTS = (
    "The city council", "The school board", "The county health department", "State regulators",
    "The harbor authority", "The transit agency", "A group of residents", "The mayor's office",
    "The police department", "Local business owners", "The planning commission", "The water district",
)  # fmt: skip
_VERBS = (
    "approved", "delayed", "questioned", "announced", "rejected", "reviewed", "proposed", "defended",
    "expanded", "postponed", "criticized", "funded",
)  # fmt: skip
_OBJECTS = (
    "a plan to repave the waterfront promenade", "new rules for short-term rentals",
    "a budget for the coming fiscal year", "a study of flooding on the east side",
    "the contract for a new ferry terminal", "changes to the bus network", "a proposal to rezone the old mill",
    "an audit of the pension fund", "a program to plant trees along Main Street",
    "the purchase of two electric fire engines", "a curfew for the downtown parks", "a tax break for the shipyard",
)  # fmt: skip
_DETAILS = (
    "Officials said the decision would be revisited next spring.",
    "Several speakers at the meeting asked for more time to study the figures.",
    "The vote followed a hearing that lasted more than three hours.",
    "Critics said the cost estimates were out of date.",
    "Supporters pointed to similar projects in neighboring towns.",
    "A spokeswoman said the office would publish the full report online.",
    "The measure passed with the support of both parties on the council.",
    "Residents of the affected neighborhoods were notified by mail.",
    "The agency said it had received more than 400 written comments.",
    "Construction could begin as early as next year if funding is secured.",
)  # fmt: skip
_NAMES = ("Ana Ruiz", "Ben Okoro", "Chloe Tan", "Dev Patel", "Ella Novak", "Farid Haddad", "Grace Liu", "Hugo Berg")
GENERATED_OUTLETS = ("ledger", "courier")


def _paragraph(rng: random.Random) -> str:
    day = rng.choice(("Monday", "Tuesday", "Wednesday", "Thursday"))
    sentences = [
        f"{rng.choice(_SUBJECTS)} {rng.choice(_VERBS)} {rng.choice(_OBJECTS)} on {day}.",
        rng.choice(_DETAILS),
        f"{rng.choice(_SUBJECTS)} {rng.choice(_VERBS)} {rng.choice(_OBJECTS)}, according to records seen this week.",
        rng.choice(_DETAILS),
    ]
    return " ".join(sentences)


def generated_article(number: int) -> Article:
    rng = random.Random(number)
    outlet = GENERATED_OUTLETS[number % len(GENERATED_OUTLETS)]
    published = datetime(2026, 10, 1, tzinfo=UTC) + timedelta(hours=number)
    subject, verb, thing = rng.choice(_SUBJECTS), rng.choice(_VERBS), rng.choice(_OBJECTS)
    revision = Revision(
        headline=f"{subject.removeprefix('The ').removeprefix('A ').capitalize()} {verb} {thing} (report {number})",
        dek=f"{subject} {verb} {thing}; the decision affects thousands of residents.",
        authors=(rng.choice(_NAMES),),
        paragraphs=tuple(_paragraph(rng) for _ in range(rng.randint(8, 14))),
        modified=published,
    )
    return Article(
        outlet=outlet,
        path=f"/gen/{number}.html",
        section="Local",
        published=published,
        access="free" if outlet == "courier" else "metered",
        revisions=[revision],
        in_story=False,
        listed=False,
    )


def generated_pages(count: int, port: int = 80) -> list[tuple[str, bytes]]:
    """(url, html) for the first ``count`` generated articles, as the newsroom would serve them."""
    from palimpsest.newsroom.render import render_article

    def url_for(outlet_key: str, path: str) -> str:
        return f"http://{OUTLETS[outlet_key].host}:{port}{path}"

    pages = []
    for number in range(count):
        article = generated_article(number)
        html = render_article(article, OUTLETS[article.outlet], url_for)
        pages.append((url_for(article.outlet, article.path), html.encode("utf-8")))
    return pages
