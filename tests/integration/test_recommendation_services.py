"""The math-core services on the real database: candidates, workload pricing, TOPSIS over
offers, the ensemble with its stored runs, and collaborative signal from interactions."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.core.errors import NotFound, Unauthenticated, ValidationFailed
from apps.math_core import recommendations, workloads
from apps.math_core.candidates import candidate_offers, offer_table
from apps.math_core.models import OfferInteraction, RecommendationRun
from apps.providers.offer_filters import OfferFilters
from tests.math_catalogue import make_offer, seed_catalogue

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalogue(benchmarks):
    return seed_catalogue()


@pytest.fixture
def people(django_user_model):
    return [
        django_user_model.objects.create_user(email=f"user{i}@example.com", password="x" * 12)
        for i in range(4)
    ]


def test_candidates_filter_and_table(catalogue):
    qs = candidate_offers(OfferFilters(gpu_model=["h100 sxm"], is_spot=False))
    assert {o.external_id for o in qs} == {"h100x1", "h100x8"}
    table = offer_table(candidate_offers(OfferFilters(country=["us"], price_max=Decimal("3"))))
    assert set(table.gpu_type) == {"H100 SXM 80GB", "A100 SXM 80GB", "RTX 4090", "A10"}
    assert table.price_per_hour.tolist() == sorted(table.price_per_hour.tolist())
    assert table.has_benchmark.all()


def test_estimate_workload_prices_every_offer_feasible_first(catalogue):
    workload = workloads.build_workload(
        workload_type="fine_tune_full", params_billion=7, tokens=1e8, batch_size=4
    )
    result = workloads.estimate_workload(workload=workload, limit=20)
    assert result.candidate_count == len(catalogue)
    feasible = [o for o in result.offers if o.feasible]
    assert feasible and all(o.total_cost is not None for o in feasible)
    # 7B full fine-tuning needs ~118 GB: one 80 GB GPU or one 24 GB card cannot hold it.
    by_id = {o.offer_id: o for o in result.offers}
    assert not by_id[str(catalogue["h100x1"].id)].feasible
    assert by_id[str(catalogue["h100x1"].id)].reasons == ["insufficient_memory"]
    assert by_id[str(catalogue["h100x8"].id)].feasible
    costs = [o.total_cost or Decimal(0) for o in feasible]
    assert costs == sorted(costs)
    assert [o.feasible for o in result.offers] == sorted(
        (o.feasible for o in result.offers), reverse=True
    )
    assert result.feasible and result.reason is None
    h100 = next(g for g in result.gpu_models if g.gpu_model == "H100 SXM 80GB")
    assert h100.min_gpus == 2 and h100.duration_hours


def test_impossible_workload_names_why(catalogue):
    workload = workloads.build_workload(
        workload_type="llm_inference", params_billion=2000, tokens=1e6
    )
    result = workloads.estimate_workload(workload=workload)
    assert not result.feasible and result.feasible_count == 0
    assert result.reason is not None
    assert "The job needs 4,102.6 GB of GPU memory (weights 4,000.0 GB" in result.reason
    assert "the largest candidate offer has 640 GB (8 x 80 GB H100 SXM 80GB)" in result.reason


def test_deadline_that_no_offer_meets(catalogue):
    workload = workloads.build_workload(
        workload_type="llm_training", params_billion=7, tokens=1e12, deadline_hours=1
    )
    result = workloads.estimate_workload(workload=workload)
    assert not result.feasible and result.reason is not None
    assert result.reason.startswith("No offer finishes within the deadline of 1 h")


def test_topsis_offers_ranks_and_stores_a_run(catalogue):
    ranking = recommendations.topsis_offers(
        offer_filter=OfferFilters(),
        criteria=[("price_per_hour", 1.0), ("total_vram_gb", 1.0)],
        limit=3,
    )
    assert ranking.ranked_count == len(catalogue)
    assert len(ranking.offers) == 3
    assert [o.rank for o in ranking.offers] == sorted(o.rank for o in ranking.offers)
    run = RecommendationRun.objects.get(pk=ranking.run_id)
    assert run.kind == "topsis_offers" and run.user is None
    assert [o["offer_id"] for o in run.outputs["offers"]] == [
        o.offer.offer_id for o in ranking.offers
    ]


def test_topsis_offers_leaves_out_offers_without_benchmark_data(catalogue):
    make_offer(gpu_type="Voodoo 5", with_benchmark=False, external_id="mystery", gpu_memory_gb=8)
    ranking = recommendations.topsis_offers(
        offer_filter=OfferFilters(), criteria=[("total_tflops", 1), ("price_per_hour", 1)]
    )
    assert ranking.excluded == {"missing_data": 1}
    assert all(o.offer.gpu_type != "Voodoo 5" for o in ranking.offers)


def test_ensemble_recommends_feasible_offers_with_explanations(catalogue, people):
    workload = workloads.build_workload(
        workload_type="llm_inference", params_billion=8, requests=10_000, context_length=4096
    )
    result = recommendations.ensemble_recommend(workload=workload, user=people[0], limit=5)
    assert result.feasible and len(result.recommendations) == 5
    assert result.collaborative_source == "none"
    assert result.effective_weights["collaborative"] == 0
    top = result.recommendations[0]
    assert top.rank == 1 and top.total_cost is not None and (top.duration_hours or 0) > 0
    names = [c.name for c in top.explanation.components]
    assert names == ["topsis", "collaborative", "content"]
    assert any(
        d.source == "topsis" and d.effect == "strength" for d in top.explanation.deciding_criteria
    )
    assert top.explanation.summary.startswith("Ranked 1 of")
    run = RecommendationRun.objects.get(pk=result.run_id)
    assert run.user == people[0] and run.workload_type == "llm_inference"
    assert run.outputs["recommendations"][0]["offer_id"] == top.offer.offer_id


def test_ensemble_answers_an_impossible_workload_with_the_reason(catalogue):
    workload = workloads.build_workload(
        workload_type="fine_tune_full", params_billion=400, tokens=1e6
    )
    result = recommendations.ensemble_recommend(workload=workload)
    assert not result.feasible and result.recommendations == []
    assert result.reason is not None and "GPU memory" in result.reason
    assert result.excluded["insufficient_memory"] == len(catalogue)
    assert RecommendationRun.objects.get(pk=result.run_id).feasible is False


def test_collaborative_signal_from_interactions(catalogue, people):
    a, b, c, newcomer = people
    h100, a100, l40s = catalogue["h100x1"], catalogue["a100x1"], catalogue["l40s"]
    for user in (a, b):  # two users book both the H100 and the A100
        for offer in (h100, a100):
            recommendations.record_interaction(user=user, offer_id=str(offer.id), kind="book")
    recommendations.record_interaction(user=c, offer_id=str(h100.id), kind="view")
    recommendations.record_interaction(user=c, offer_id=str(l40s.id), kind="select")
    # c has used the H100, whose neighbours are the A100 (strong) and the L40S (weak).
    result = recommendations.ensemble_recommend(
        user=c, weights={"topsis": 0, "content": 0, "collaborative": 1}
    )
    assert result.collaborative_source == "item_item"
    top = result.recommendations[0]
    assert top.offer.offer_id == str(a100.id)
    similar = [d for d in top.explanation.deciding_criteria if d.source == "collaborative"]
    assert similar and "H100 SXM 80GB at runpod" in similar[0].detail
    cold = recommendations.ensemble_recommend(
        user=newcomer, weights={"topsis": 0, "content": 0, "collaborative": 1}
    )
    assert cold.collaborative_source == "popularity"
    assert cold.recommendations[0].offer.offer_id in {str(h100.id), str(a100.id)}


def test_old_interactions_fall_out_of_the_window(catalogue, people):
    interaction = recommendations.record_interaction(
        user=people[0], offer_id=str(catalogue["a10"].id), kind="book"
    )
    OfferInteraction.objects.filter(pk=interaction.pk).update(
        created_at=timezone.now() - timedelta(days=400)
    )
    result = recommendations.ensemble_recommend(user=people[1])
    assert result.collaborative_source == "none"


def test_record_interaction_rules(catalogue, people):
    offer_id = str(catalogue["a10"].id)
    with pytest.raises(Unauthenticated):
        recommendations.record_interaction(user=None, offer_id=offer_id, kind="view")
    with pytest.raises(ValidationFailed) as excinfo:
        recommendations.record_interaction(user=people[0], offer_id=offer_id, kind="like")
    assert excinfo.value.field == "kind"
    with pytest.raises(NotFound):
        recommendations.record_interaction(
            user=people[0], offer_id="00000000-0000-0000-0000-000000000000", kind="view"
        )
    run = recommendations.ensemble_recommend(user=people[1]).run_id
    with pytest.raises(NotFound) as not_found:  # someone else's run
        recommendations.record_interaction(
            user=people[0], offer_id=offer_id, kind="book", run_id=run
        )
    assert not_found.value.field == "run_id"
    mine = recommendations.ensemble_recommend(user=people[0]).run_id
    saved = recommendations.record_interaction(
        user=people[0], offer_id=offer_id, kind="book", run_id=mine
    )
    assert str(saved.run_id) == mine


def test_cold_start_prefers_what_users_of_the_same_workload_chose(catalogue, people):
    trainer, server, newcomer, _ = people
    training = workloads.build_workload(
        workload_type="fine_tune_lora", params_billion=8, tokens=1e7
    )
    inference = workloads.build_workload(
        workload_type="llm_inference", params_billion=8, tokens=1e7
    )
    run_t = recommendations.ensemble_recommend(workload=training, user=trainer).run_id
    run_i = recommendations.ensemble_recommend(workload=inference, user=server).run_id
    h100, l40s = catalogue["h100x1"], catalogue["l40s"]
    recommendations.record_interaction(
        user=trainer, offer_id=str(h100.id), kind="book", run_id=run_t
    )
    for _ in range(3):  # globally, the L40S is the more popular offer
        recommendations.record_interaction(
            user=server, offer_id=str(l40s.id), kind="book", run_id=run_i
        )
    only_cf = {"topsis": 0, "content": 0, "collaborative": 1}
    for_training = recommendations.ensemble_recommend(
        workload=training, user=newcomer, weights=only_cf
    )
    assert for_training.collaborative_source == "popularity_for_workload"
    assert for_training.recommendations[0].offer.offer_id == str(h100.id)
    anything = recommendations.ensemble_recommend(user=newcomer, weights=only_cf)
    assert anything.collaborative_source == "popularity"
    assert anything.recommendations[0].offer.offer_id == str(l40s.id)
