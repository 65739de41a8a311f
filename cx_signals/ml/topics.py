"""Emerging topics: the contacts the intent model cannot name, clustered on their first customer turns into candidate
new contact drivers, each followed across days under a stable topic id.

Texts are vectorised with TF-IDF (word 1-2-grams, sublinear term frequency; stop words are kept, as "not sure" or "how
do I" carry meaning in short utterances, and inverse document frequency already weighs them down) and clustered by
agglomerative clustering with average linkage on cosine distance, cut at a distance threshold: the number of topics
follows from the data, not from a chosen k. Clusters smaller than a minimum size are left out (noise). Each topic gets
its top terms by class-based TF-IDF (a term's frequency in the topic, weighted by how rare it is across topics; terms
made only of English stop words are left out), its representative texts (the members nearest its centroid) and its
centroid as a term -> weight map of the same terms, which does not depend on a run's vocabulary: a topic continues an
earlier one when their centroids' cosine similarity reaches a threshold (greedy one-to-one matching, most similar pairs
first), else it gets a new id derived from its members. Clustering is quadratic in the texts: callers cap them
(`topics.max_texts`).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import polars as pl
from scipy import sparse
from sklearn.cluster import AgglomerativeClustering
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer, TfidfTransformer
from sklearn.metrics.pairwise import cosine_distances

from cx_signals.config import TopicsParameters

# Terms kept in a stored centroid: enough for matching, small enough to store per topic and day.
CENTROID_TERMS = 50


@dataclass(frozen=True)
class Topic:
    """One cluster of texts: `members` (indices into the clustered texts, nearest the centroid first) with their
    `similarities` (cosine, to the centroid), its `representatives` (the first members with distinct texts),
    `top_terms` (class-based TF-IDF, best first) and `centroid` (term -> weight, unit length over the kept terms)."""

    members: tuple[int, ...]
    similarities: tuple[float, ...]
    representatives: tuple[int, ...]
    top_terms: tuple[str, ...]
    centroid: dict[str, float]


def _vectorise(texts: Sequence[str]) -> tuple[sparse.csr_matrix, sparse.csr_matrix, np.ndarray]:
    """Term counts, L2-normalised TF-IDF rows and the vocabulary of `texts`."""
    counter = CountVectorizer(ngram_range=(1, 2), token_pattern=r"(?u)\b[^\W\d_]{2,}\b")
    counts = counter.fit_transform(texts).tocsr()
    tfidf = TfidfTransformer(sublinear_tf=True).fit_transform(counts).tocsr()
    return counts, tfidf, counter.get_feature_names_out()


def cluster_texts(
    texts: Sequence[str],
    *,
    distance_threshold: float,
    min_topic_size: int,
    n_terms: int = 8,
    n_representatives: int = 5,
) -> list[Topic]:
    """The topics of `texts`: agglomerative clusters (average linkage, cosine distance between TF-IDF vectors, merged
    while below `distance_threshold`, in [0, 2]) of at least `min_topic_size` texts, largest first (ties: by first
    member). A text with no term left after stop words belongs to no topic. Deterministic for the same texts in the
    same order."""
    if not 0 < distance_threshold <= 2:
        raise ValueError(f"distance_threshold must be in (0, 2], got {distance_threshold}")
    if min_topic_size < 2:
        raise ValueError(f"min_topic_size must be at least 2, got {min_topic_size}")
    if len(texts) < min_topic_size:
        return []
    try:
        counts, tfidf, vocabulary = _vectorise(texts)
    except ValueError:  # no term at all (only stop words or digits)
        return []
    has_terms = np.flatnonzero(tfidf.getnnz(axis=1) > 0)
    if has_terms.size < min_topic_size:
        return []
    vectors = tfidf[has_terms]
    distances = cosine_distances(vectors)
    labels = AgglomerativeClustering(
        n_clusters=None, metric="precomputed", linkage="average", distance_threshold=distance_threshold
    ).fit_predict(distances)
    groups = [has_terms[labels == label] for label in np.unique(labels)]
    groups = sorted((g for g in groups if g.size >= min_topic_size), key=lambda g: (-g.size, g[0]))
    if not groups:
        return []
    term_weights = _class_tfidf(counts, groups)
    # labels and the centroids matched across days leave out terms of stop words only: every topic shares them
    content = np.array([not set(term.split()) <= ENGLISH_STOP_WORDS for term in vocabulary])
    topics = []
    for group, weights in zip(groups, term_weights, strict=True):
        centroid = np.asarray(tfidf[group].mean(axis=0)).ravel()
        centroid /= np.linalg.norm(centroid) or 1.0
        similarity = np.clip(tfidf[group] @ centroid, 0.0, 1.0)  # rounding may pass 1
        order = np.lexsort((group, -similarity))  # nearest first; ties by input order
        members = group[order]
        representatives, seen = [], set()
        for index in members:
            text = " ".join(texts[index].lower().split())
            if text not in seen:
                seen.add(text)
                representatives.append(int(index))
            if len(representatives) == n_representatives:
                break
        top = np.argsort(-np.where(content, weights, 0.0), kind="stable")[:n_terms]
        kept = np.argsort(-np.where(content, centroid, 0.0), kind="stable")[:CENTROID_TERMS]
        kept = kept[content[kept] & (centroid[kept] > 0)]
        norm = float(np.linalg.norm(centroid[kept])) or 1.0
        topics.append(
            Topic(
                members=tuple(int(i) for i in members),
                similarities=tuple(float(s) for s in similarity[order]),
                representatives=tuple(representatives),
                top_terms=tuple(str(vocabulary[i]) for i in top if content[i] and weights[i] > 0),
                centroid={str(vocabulary[i]): float(centroid[i]) / norm for i in kept},
            )
        )
    return topics


def _class_tfidf(counts: sparse.csr_matrix, groups: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Class-based TF-IDF of each group's terms: the term's share of the group's words x log(1 + mean words per
    group / the term's count over all groups)."""
    per_group = np.vstack([np.asarray(counts[g].sum(axis=0)).ravel() for g in groups]).astype(float)
    totals = per_group.sum(axis=0)
    mean_words = per_group.sum() / len(groups)
    idf = np.log1p(mean_words / np.where(totals > 0, totals, np.inf))
    shares = per_group / np.maximum(per_group.sum(axis=1, keepdims=True), 1.0)
    return list(shares * idf)


def centroid_similarity(a: Mapping[str, float], b: Mapping[str, float]) -> float:
    """Cosine similarity of two centroids given as term -> weight maps (0 when either is empty)."""
    dot = sum(weight * b.get(term, 0.0) for term, weight in a.items())
    norms = math.sqrt(sum(w * w for w in a.values())) * math.sqrt(sum(w * w for w in b.values()))
    return min(dot / norms, 1.0) if norms else 0.0  # rounding may pass 1 for equal centroids


def match_topics(
    centroids: Sequence[Mapping[str, float]], earlier: Mapping[str, Mapping[str, float]], min_similarity: float
) -> list[tuple[str | None, float | None]]:
    """For each of `centroids`, the id of the earlier topic it continues and their similarity, or (None, None): pairs
    are taken most similar first (ties: by position, then id), each earlier topic at most once, while their cosine
    similarity is at least `min_similarity`."""
    pairs = sorted(
        (
            (-similarity, position, topic_id)
            for position, centroid in enumerate(centroids)
            for topic_id, other in earlier.items()
            if (similarity := centroid_similarity(centroid, other)) >= min_similarity
        ),
    )
    matched: list[tuple[str | None, float | None]] = [(None, None)] * len(centroids)
    used: set[str] = set()
    for negative, position, topic_id in pairs:
        if matched[position][0] is None and topic_id not in used:
            matched[position] = (topic_id, -negative)
            used.add(topic_id)
    return matched


def new_topic_id(member_ids: Sequence[str]) -> str:
    """The id of a topic first seen with the contacts `member_ids`: 'topic-' + 10 hex digits of their sorted ids'
    SHA-256, so a rerun over the same contacts names it the same."""
    digest = hashlib.sha256("\n".join(sorted(member_ids)).encode()).hexdigest()
    return f"topic-{digest[:10]}"


@dataclass(frozen=True)
class EarlierTopic:
    """A topic of an earlier day: its centroid (term -> weight) and the day it was first seen."""

    centroid: Mapping[str, float]
    first_seen: date


def candidate_contacts(contacts: pl.DataFrame, quantile: float) -> pl.DataFrame:
    """The rows of `contacts` to cluster: unlabelled contacts with customer text that the model left unknown
    (`predicted_intent` null) or scored below the `quantile` of the labelled contacts' confidences (no cut-off
    without scored labelled contacts or when `quantile` is 0).

    `contacts` needs `labelled` (the source gave an intent), `text`, `predicted_intent` and `confidence`.
    """
    if not 0 <= quantile < 1:
        raise ValueError(f"quantile must be in [0, 1), got {quantile}")
    scored = contacts.filter(pl.col("labelled") & pl.col("confidence").is_not_null())["confidence"]
    cut = scored.quantile(quantile, "lower") if quantile > 0 and scored.len() else None
    low = pl.col("predicted_intent").is_null()
    if cut is not None:
        low = low | (pl.col("confidence") < cut)
    has_text = pl.col("text").is_not_null() & (pl.col("text").str.strip_chars() != "")
    return contacts.filter(~pl.col("labelled") & has_text & low)


def discover_topics(
    contacts: pl.DataFrame,
    day: date,
    earlier: Mapping[str, EarlierTopic],
    parameters: TopicsParameters,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The emerging topics of `day` and their contacts, from `contacts` (conversation_id, partition_date, text,
    labelled, predicted_intent, confidence) of at least the 2 x `window_days` days ending on `day`.

    The candidates (`candidate_contacts`) of those days, at most `max_texts` (the most recent first), are clustered
    (`cluster_texts`); a topic's size counts its contacts of the last `window_days` days, its previous size those of
    the window before, and only topics with contacts in the last window are kept. A topic continues an `earlier` one
    (by centroid similarity, `match_topics`) or gets a `new_topic_id`. Returns (topics, members): one row per topic
    and one per clustered contact with its topic, similarity to the centroid and, for the representatives (nearest
    the centroid, distinct texts), their rank and text.
    """
    window = parameters.window_days
    first, last_week = day - timedelta(days=2 * window - 1), day - timedelta(days=window - 1)
    in_days = contacts.filter(pl.col("partition_date").is_between(first, day))
    candidates = candidate_contacts(in_days, parameters.candidate_quantile)
    n_candidates = candidates.height
    candidates = candidates.sort(["partition_date", "conversation_id"], descending=[True, False]).head(
        parameters.max_texts
    )
    texts = candidates["text"].to_list()
    ids = candidates["conversation_id"].to_list()
    days = candidates["partition_date"].to_list()
    topics = [
        t
        for t in cluster_texts(
            texts,
            distance_threshold=parameters.distance_threshold,
            min_topic_size=parameters.min_topic_size,
            n_terms=parameters.top_terms,
            n_representatives=parameters.representatives,
        )
        if any(days[i] >= last_week for i in t.members)
    ]
    matches = match_topics(
        [t.centroid for t in topics], {k: v.centroid for k, v in earlier.items()}, parameters.match_similarity
    )
    topic_rows, member_rows = [], []
    for topic, (earlier_id, similarity) in zip(topics, matches, strict=True):
        topic_id = earlier_id or new_topic_id([ids[i] for i in topic.members])
        size = sum(days[i] >= last_week for i in topic.members)
        previous = len(topic.members) - size
        ranks = {index: rank for rank, index in enumerate(topic.representatives, 1)}
        topic_rows.append(
            {
                "partition_date": day,
                "topic_id": topic_id,
                "label": " / ".join(topic.top_terms[:3]),
                "size": size,
                "size_previous_week": previous,
                "growth": size / previous - 1 if previous else None,
                "first_seen": earlier[earlier_id].first_seen if earlier_id else day,
                "is_new": earlier_id is None,
                "matched_similarity": similarity,
                "top_terms": json.dumps(list(topic.top_terms)),
                "centroid_terms": json.dumps(topic.centroid),
                "candidates": n_candidates,
                "clustered": len(texts),
            }
        )
        member_rows.extend(
            {
                "partition_date": day,
                "topic_id": topic_id,
                "conversation_id": ids[index],
                "contact_date": days[index],
                "in_current_week": days[index] >= last_week,
                "similarity": similarity_to_centroid,
                "representative_rank": ranks.get(index),
                # only representatives carry their text, on the contact's own row, so that erasing or a refused
                # consent removes it with the contact
                "utterance": texts[index] if index in ranks else None,
            }
            for index, similarity_to_centroid in zip(topic.members, topic.similarities, strict=True)
        )
    return (
        pl.DataFrame(topic_rows, schema=_TOPIC_SCHEMA),
        pl.DataFrame(member_rows, schema=_MEMBER_SCHEMA),
    )


_TOPIC_SCHEMA = {
    "partition_date": pl.Date,
    "topic_id": pl.String,
    "label": pl.String,
    "size": pl.Int64,
    "size_previous_week": pl.Int64,
    "growth": pl.Float64,
    "first_seen": pl.Date,
    "is_new": pl.Boolean,
    "matched_similarity": pl.Float64,
    "top_terms": pl.String,
    "centroid_terms": pl.String,
    "candidates": pl.Int64,
    "clustered": pl.Int64,
}
_MEMBER_SCHEMA = {
    "partition_date": pl.Date,
    "topic_id": pl.String,
    "conversation_id": pl.String,
    "contact_date": pl.Date,
    "in_current_week": pl.Boolean,
    "similarity": pl.Float64,
    "representative_rank": pl.Int64,
    "utterance": pl.String,
}
