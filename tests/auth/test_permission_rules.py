"""The declared rules behave the same for every caller kind."""

from __future__ import annotations

import pytest

from apps.auth_app.models import AuthSession, Role
from apps.auth_app.permissions import AUTHENTICATED, STAFF, TENANT_ADMIN, owns, same_tenant
from apps.core.errors import PermissionDenied, Unauthenticated


@pytest.mark.django_db
def test_rules(user, tenant_admin, other_tenant_user, make_user):
    staff = make_user("ops@gpubroker.example", is_staff=True)
    for rule in (AUTHENTICATED, TENANT_ADMIN, STAFF):
        with pytest.raises(Unauthenticated):
            rule.check(None)
    assert AUTHENTICATED.check(user) is user
    assert TENANT_ADMIN.check(tenant_admin) is tenant_admin
    with pytest.raises(PermissionDenied):
        TENANT_ADMIN.check(user)
    assert STAFF.check(staff) is staff
    with pytest.raises(PermissionDenied):
        STAFF.check(tenant_admin)
    user.is_active = False
    with pytest.raises(Unauthenticated):
        AUTHENTICATED.check(user)
    session = AuthSession(user=tenant_admin)
    assert owns(tenant_admin, session) and not owns(user, session)
    assert same_tenant(user, tenant_admin) and not same_tenant(user, other_tenant_user)
    assert other_tenant_user.role == Role.TENANT_ADMIN


@pytest.mark.django_db
def test_rest_guards_and_graphql_permissions_share_the_rules(rf, user, tenant_admin):
    from gpubroker.api.v2.security import staff_auth, tenant_admin_auth
    from schema.permissions import IsStaff, IsTenantAdmin

    assert tenant_admin_auth.rule is TENANT_ADMIN and IsTenantAdmin.rule is TENANT_ADMIN
    assert staff_auth.rule is STAFF and IsStaff.rule is STAFF
