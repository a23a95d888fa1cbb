"""How many results the math core's services answer at most: the one definition of each limit
(the services check it with ``apps.core.inputs.check_limit``; the facades read it for their
OpenAPI bounds and query-cost list sizes)."""

from __future__ import annotations

#: Offers one ranking answers: TOPSIS over offers and the ensemble recommender.
MAX_RANKED_OFFERS = 100
#: Offers one workload estimate lists (every offer is assessed; this many are returned).
MAX_ESTIMATED_OFFERS = 200
#: Rows one model-catalogue search returns.
MAX_LISTED_MODELS = 500
