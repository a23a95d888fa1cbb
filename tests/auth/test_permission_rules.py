"""The declared rules behave the same for every caller kind."""

from __future__ import annotations

import pytest

from apps.auth_app.models import Role
from apps.auth_app.permissions import AUTHENTICATED, TENANT_ADMIN
from apps.core.errors import PermissionDenied, Unauthenticated


@pytest.mark.django_db
def test_rules(user, tenant_admin, other_tenant_user):
    for rule in (AUTHENTICATED, TENANT_ADMIN):
        with pytest.raises(Unauthenticated):
            rule.check(None)
    assert AUTHENTICATED.check(user) is user
    assert TENANT_ADMIN.check(tenant_admin) is tenant_admin
    with pytest.raises(PermissionDenied):
        TENANT_ADMIN.check(user)
    user.is_active = False
    with pytest.raises(Unauthenticated):
        AUTHENTICATED.check(user)
    assert other_tenant_user.role == Role.TENANT_ADMIN


@pytest.mark.django_db
def test_rest_guards_and_graphql_permissions_share_the_rules(rf, user, tenant_admin):
    from gpubroker.api.v2.security import tenant_admin_auth
    from schema.permissions import IsTenantAdmin

    assert tenant_admin_auth.rule is TENANT_ADMIN and IsTenantAdmin.rule is TENANT_ADMIN
