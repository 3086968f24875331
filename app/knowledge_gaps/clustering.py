"""Questions into topics: agglomerative clustering of their embeddings (scikit-learn).

Average linkage over cosine distance with a distance threshold, not a number of clusters:
nobody knows in advance how many things the knowledge base is missing, and a threshold keeps
its meaning ("merge while the groups are on average this close") whatever the count. Within a
topic the questions are ordered by their closeness to its centre, so the first one names it.
scikit-learn is imported on first use: the server pays for it only when a report is made.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True)
class Cluster:
    """Indices into the clustered vectors, nearest the cluster's centre first."""

    members: tuple[int, ...]


def cluster(vectors: npt.NDArray[np.float32], *, distance: float) -> list[Cluster]:
    """Group the rows of ``vectors`` (one question each); largest group first, ties in the
    order of their first member. Rows need not be normalised; zero rows stay alone."""
    count = len(vectors)
    if count == 0:
        return []
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    unit = np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)
    labels: list[int]
    if count == 1:
        labels = [0]
    else:
        from sklearn.cluster import AgglomerativeClustering

        model = AgglomerativeClustering(n_clusters=None, metric="cosine", linkage="average",
                                        distance_threshold=distance)
        # cosine distance is undefined for a zero row: such a row gets a label of its own
        zero = (norms[:, 0] == 0)
        labels = [-1] * count
        kept: list[int] = np.flatnonzero(~zero).tolist()
        if len(kept) >= 2:
            for row, label in zip(kept, model.fit_predict(unit[kept]).tolist(), strict=True):
                labels[row] = int(label)
        elif len(kept) == 1:
            labels[kept[0]] = 0
        top = max(labels) + 1
        alone: list[int] = np.flatnonzero(zero).tolist()
        for row in alone:
            labels[row], top = top, top + 1
    groups: dict[int, list[int]] = {}
    for index, label in enumerate(labels):
        groups.setdefault(label, []).append(index)
    found = []
    for members in groups.values():
        centre = unit[members].mean(axis=0)
        closeness = unit[members] @ centre
        order = sorted(range(len(members)), key=lambda i: (-float(closeness[i]), members[i]))
        found.append(Cluster(tuple(members[i] for i in order)))
    return sorted(found, key=lambda c: (-len(c.members), min(c.members)))
