"""Query cost before execution (schema/cost.py): the model's known answers, the declaration
check, the per-operation cap and the per-client budget."""

from __future__ import annotations

import json

import pytest
import strawberry
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.auth_app import ratelimit
from graphql import parse
from schema import cost, schema
from schema.cost import operation_cost, undeclared_list_fields

pytestmark = pytest.mark.django_db


def gql(client, query, variables=None, **headers):
    body = {"query": query, "variables": variables or {}}
    response = client.post(
        "/graphql/", data=json.dumps(body), content_type="application/json", **headers
    )
    return response.json()


def cost_of(query, variables=None, graphql_schema=None):
    target = graphql_schema or schema._schema
    return operation_cost(target, parse(query), None, variables, 1000)


# --- the CI check ------------------------------------------------------------------------------


def test_every_list_field_declares_its_size():
    missing = undeclared_list_fields(schema._schema)
    assert missing == [], (
        "List fields without a declared size (add metadata=cost.list_size(...) beside each, "
        f"see schema/cost.py): {', '.join(missing)}"
    )


@strawberry.type
class _Item:
    name: str


@strawberry.type
class _Query:
    @strawberry.field
    def items(self) -> list[_Item]:
        return []

    @strawberry.field(metadata=cost.list_size(5))
    def sized(self) -> list[_Item]:
        return []


def test_the_check_names_a_list_field_without_a_size():
    assert undeclared_list_fields(strawberry.Schema(query=_Query)._schema) == ["Query.items"]


# --- the model's answers -----------------------------------------------------------------------


def test_scalars_cost_nothing_and_objects_one():
    assert cost_of("{ __typename }") == 0
    assert cost_of("{ me { id email } }") == 1
    assert cost_of("{ me { id tenant { id name } } }") == 2


def test_a_list_costs_two_plus_its_size_times_an_item():
    # providers: assumed 20 items, each an object (1) with a scalar (0)
    assert cost_of("{ providers { name } }") == 2 + 20 * 1
    # benchmarks: 100 assumed
    assert cost_of("{ benchmarks { gpuModel } }") == 2 + 100 * 1


def test_connection_page_size_comes_from_the_argument_literal_variable_or_default():
    query = "query($n: Int) { offers(first: $n) { totalCount edges { node { id } } } }"
    # offers (object 1) + edges (2 + n × (edge 1 + node 1))
    assert cost_of(query, {"n": 5}) == 1 + 2 + 5 * 2
    assert cost_of("{ offers(first: 7) { edges { node { id } } } }") == 1 + 2 + 7 * 2
    assert cost_of("{ offers { edges { node { id } } } }") == 1 + 2 + 20 * 2
    assert cost_of("{ offers(last: 3) { edges { cursor } } }") == 1 + 2 + 3 * 1


def test_nested_lists_multiply():
    query = "{ offers(first: 10) { edges { node { priceHistory(first: 30) { price } } } } }"
    # node: 1 + priceHistory (2 + 30 × 1) = 33; edge: 1 + 33 = 34
    assert cost_of(query) == 1 + 2 + 10 * 34


def test_sizes_from_an_ancestors_input_argument():
    query = (
        "mutation($i: TopsisInput!) { topsis(input: $i) "
        "{ ranking { offers { rank } } errors { message } } }"
    )
    variables = {"i": {"offers": {"limit": 7}}}
    # mutation 10 + payload 1 + ranking 1 + offers (2 + 7 × 1) + errors (2 + 10 × 1)
    assert cost_of(query, variables) == 10 + 1 + 1 + (2 + 7) + (2 + 10)


def test_fragments_merge_like_execution_and_aliases_add():
    once = cost_of("{ ...F ...F } fragment F on Query { providers { name } }")
    assert once == cost_of("{ providers { name } }")
    twice = cost_of("{ a: providers { name } b: providers { name } }")
    assert twice == 2 * once


def test_mutations_cost_ten_each():
    assert cost_of("mutation { logout { errors { message } } }") == 10 + 1 + 2 + 10


# --- the cap, over HTTP ------------------------------------------------------------------------


WORKLOAD = "{workloadType: LLM_INFERENCE, paramsBillion: 70}"


def _refused_without_sql(client, query, variables=None):
    with CaptureQueriesContext(connection) as queries:
        body = gql(client, query, variables)
    assert body["data"] is None, body
    error = body["errors"][0]
    assert error["extensions"]["code"] == "COST_LIMIT_EXCEEDED", error
    assert body["extensions"]["cost"]["requested"] > 1000
    assert len(queries) == 0, [q["sql"] for q in queries]
    return body


def test_issue_twenty_aliased_workload_estimates_are_refused_by_cost(client, settings):
    """Issue: 19 KB, 20 × estimateWorkload(limit: 200) with the nested offer: 55 s, 38 MB."""
    settings.GRAPHQL_MAX_ALIASES = 100  # the cost model alone refuses it
    fields = " ".join(
        f"e{i}: estimateWorkload(workload: {WORKLOAD}, limit: 200) "
        "{ offers { offer { id provider { name } } } }"
        for i in range(20)
    )
    body = _refused_without_sql(client, "{ " + fields + " }")
    assert body["extensions"]["cost"]["requested"] >= 20 * 200


def test_issue_fifty_aliased_price_histories_are_refused(client, settings):
    """Issue: a 3 KB query with 50 aliased priceHistory lists: 24 s, 31 MB."""
    settings.GRAPHQL_MAX_ALIASES = 100
    fields = " ".join(f"h{i}: priceHistory(first: 100) {{ pricePerHour }}" for i in range(50))
    _refused_without_sql(client, "{ offers(first: 100) { edges { node { " + fields + " } } } }")


def test_issue_hundred_topsis_mutations_store_nothing(client, settings):
    """Issue: 100 aliased topsis mutations stored 100 recommendation runs in 0.9 s."""
    from apps.math_core.models import RecommendationRun

    settings.GRAPHQL_MAX_ALIASES = 1000
    settings.GRAPHQL_MAX_ROOT_MUTATIONS = 1000
    settings.GRAPHQL_MAX_TOKENS = 10_000
    fields = " ".join(
        f"t{i}: topsis(input: {{offers: {{limit: 5}}}}) {{ errors {{ message }} }}"
        for i in range(100)
    )
    _refused_without_sql(client, "mutation { " + fields + " }")
    assert RecommendationRun.objects.count() == 0


def test_every_response_reports_its_cost(client):
    body = gql(client, "{ providers { name } }")
    assert body["data"] == {"providers": []}
    assert body["extensions"]["cost"] == {"requested": 22, "maximum": 1000, "budget": None}


# --- the budget --------------------------------------------------------------------------------


@pytest.fixture
def budgets(settings):
    """An anonymous bucket of 1,000 points draining 10 per second (10 rps × 1 point × 100 s):
    slow enough that a loaded machine cannot drain what a test spends before it checks."""
    settings.RATE_LIMIT_REQUESTS_ENABLED = True
    settings.RATE_LIMIT_ANONYMOUS_RPS = 10
    settings.GRAPHQL_COST_POINTS_PER_REQUEST = 1
    settings.GRAPHQL_COST_BUDGET_WINDOW = 100
    ratelimit.reset()
    yield
    ratelimit.reset()


def benchmarks_query(aliases):
    """``aliases`` aliased benchmark lists: 102 points each."""
    return "{ " + " ".join(f"b{n}: benchmarks {{ gpuModel }}" for n in range(aliases)) + " }"


def test_the_budget_is_charged_reported_and_refuses_before_sql(client, budgets, settings):
    first = gql(client, benchmarks_query(1))
    budget = first["extensions"]["cost"]["budget"]
    assert budget["limit"] == 1000 and 1000 - 102 - 2 <= budget["remaining"] <= 1000 - 102
    gql(client, benchmarks_query(8))  # 918 spent
    # 3 × 102 more does not fit (it would take 22 s of draining)
    with CaptureQueriesContext(connection) as queries:
        refused = gql(client, benchmarks_query(3))
    assert refused["data"] is None
    error = refused["errors"][0]
    assert error["extensions"]["code"] == "COST_BUDGET_EXCEEDED"
    assert error["extensions"]["retryAfter"] >= 1
    assert refused["extensions"]["cost"]["budget"]["remaining"] < 306
    assert len(queries) == 0
    # a cheap operation still fits in what is left
    assert gql(client, "{ me { id } }")["extensions"]["cost"]["requested"] == 1


def test_budgets_are_per_client(client, budgets, settings):
    gql(client, benchmarks_query(9))  # 918 spent
    assert gql(client, benchmarks_query(3))["data"] is None
    other = gql(client, benchmarks_query(3), REMOTE_ADDR="10.0.0.9")
    assert other["data"] == {f"b{n}": [] for n in range(3)}


# --- the cap and the project's own operations (README "Hardened public API") -------------------

CAP = 1000
#: (operation, variables at one page size) -> the largest page that fits the cap, as documented.
LARGEST_PAGES = {
    "OfferSearch": (lambda n: {"first": n}, 100),
    "OfferSearchWithHistory": (lambda n: {"first": n}, 35),
    "EnsembleRecommend": (lambda n: {"input": {"limit": n}}, 38),
    "Topsis": (lambda n: {"input": {"offers": {"limit": n}}}, 41),
    "EstimateWorkload": (lambda n: {"workload": {"workloadType": "GENERIC"}, "limit": n}, 192),
}


def _project_documents():
    from schema.trusted_documents import operation_documents
    from tests.graphql_client import OPERATIONS_DIR

    docs = [parse(p.read_text()) for p in sorted(OPERATIONS_DIR.glob("*.graphql"))]
    return {name: parse(text) for name, text in operation_documents(docs).items()}


def test_the_project_operations_fit_the_cap_at_their_default_sizes(settings):
    assert settings.GRAPHQL_COST_MAX_PER_OPERATION == CAP
    for name, document in _project_documents().items():
        assert operation_cost(schema._schema, document, None, {}, 10**9) <= CAP, name


@pytest.mark.parametrize("name", sorted(LARGEST_PAGES))
def test_the_documented_largest_page_fits_and_one_more_does_not(name):
    variables, largest = LARGEST_PAGES[name]
    document = _project_documents()[name]
    assert operation_cost(schema._schema, document, None, variables(largest), 10**9) <= CAP
    maximum = 200 if name == "EstimateWorkload" else 100
    if largest < maximum:
        assert operation_cost(schema._schema, document, None, variables(largest + 1), 10**9) > CAP
