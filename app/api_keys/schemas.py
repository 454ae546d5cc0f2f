"""API-key request and response bodies (field names as SendGrid spells them)."""

from __future__ import annotations

from pydantic import BaseModel


class ApiKeyCreate(BaseModel):
    name: str
    scopes: list[str] | None = None


class ApiKeyRename(BaseModel):
    name: str


class ApiKeyReplace(BaseModel):
    name: str
    scopes: list[str] | None = None


class ApiKeyCreated(BaseModel):
    api_key: str
    api_key_id: str
    name: str
    scopes: list[str]


class ApiKeySummary(BaseModel):
    api_key_id: str
    name: str


class ApiKeyList(BaseModel):
    result: list[ApiKeySummary]


class ApiKeyWithScopes(BaseModel):
    api_key_id: str
    name: str
    scopes: list[str]


class ScopeList(BaseModel):
    scopes: list[str]
