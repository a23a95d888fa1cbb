from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from .models import AuditLog, AuthSession, Invitation, Tenant, User


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = ("name", "plan", "rate_limit_rps", "ws_limit", "created_at")
    list_filter = ("plan",)
    search_fields = ("name",)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ("email",)
    list_display = ("email", "full_name", "tenant", "role", "mfa_enabled", "is_active", "is_staff")
    list_filter = ("role", "mfa_enabled", "is_active", "is_staff", "tenant")
    search_fields = ("email", "full_name", "organization")
    readonly_fields = ("mfa_secret", "created_at", "updated_at", "last_login")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Profile", {"fields": ("full_name", "organization", "tenant", "role")}),
        ("Security", {"fields": ("mfa_enabled", "mfa_secret")}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser")}),
        ("Dates", {"fields": ("last_login", "created_at", "updated_at")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("email", "full_name", "password1", "password2")}),
    )


@admin.register(AuditLog)
class AuditLogAdmin(admin.ModelAdmin):
    """Read-only: the audit chain is append-only."""

    list_display = ("created_at", "tenant", "user", "action", "resource_type", "resource_id")
    list_filter = ("action", "resource_type", "tenant")
    search_fields = ("action", "resource_id", "user__email")
    date_hierarchy = "created_at"

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ("email", "tenant", "role", "created_by", "expires_at", "accepted_at")
    list_filter = ("role", "tenant")
    search_fields = ("email",)
    readonly_fields = ("token_hash", "created_at", "accepted_at", "accepted_by")


@admin.register(AuthSession)
class AuthSessionAdmin(admin.ModelAdmin):
    """Sessions (refresh-token families); staff can see and revoke them, not create them."""

    list_display = (
        "user",
        "created_at",
        "last_used_at",
        "ip_address",
        "revoked_at",
        "revoked_reason",
    )
    list_filter = ("revoked_reason",)
    search_fields = ("user__email", "ip_address")
    readonly_fields = ("user", "created_at", "last_used_at", "ip_address", "user_agent")

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False
