"""The OpenAPI 3.1 description of /api/v1 (served at /api/v1/openapi.json)."""

from __future__ import annotations

from placements import codes

_STRING_LIST = {"type": "array", "items": {"type": "string"}}


def _array_query(name: str, values, description: str) -> dict:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "style": "form",
        "explode": True,
        "schema": {"type": "array", "items": {"type": "string", "enum": list(values)}},
    }


FILTERS = [
    {
        "name": "q",
        "in": "query",
        "required": False,
        "description": "Search words (name, organisation, address, description, opening titles).",
        "schema": {"type": "string", "maxLength": 200},
    },
    {
        "name": "municipality",
        "in": "query",
        "required": False,
        "description": "Municipality code, repeatable (e.g. 205).",
        "style": "form",
        "explode": True,
        "schema": {"type": "array", "items": {"type": "string", "pattern": "^[0-9]{3}$"}},
    },
    _array_query("type", codes.OPENING_TYPES, "Opening type, repeatable (any of them)."),
    _array_query("task", codes.TASK_AREAS, "Task area, repeatable (any of them)."),
    _array_query("access", codes.ACCESSIBILITY, "Accessibility code, repeatable (all of them)."),
    {
        "name": "free",
        "in": "query",
        "required": False,
        "description": "1 = only openings with free places.",
        "schema": {"type": "string", "enum": ["1"]},
    },
    {
        "name": "near",
        "in": "query",
        "required": False,
        "description": "A municipality name or code, a Kainuu postal code, or 'lat,lon'.",
        "schema": {"type": "string", "maxLength": 100},
    },
    {
        "name": "km",
        "in": "query",
        "required": False,
        "description": "Distance limit in km with 'near'.",
        "schema": {"type": "number", "exclusiveMinimum": 0, "maximum": 1000},
    },
]
PAGING = [
    {"name": "page", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 1, "maximum": 100000}},
    {"name": "per_page", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 1, "maximum": 100}},
]

OPENING = {
    "type": "object",
    "required": [
        "id",
        "uuid",
        "site_id",
        "type",
        "title",
        "places_total",
        "places_free",
        "status",
        "last_confirmed_at",
        "stale",
    ],
    "properties": {
        "id": {"type": "integer"},
        "uuid": {"type": "string", "format": "uuid"},
        "site_id": {"type": "integer"},
        "type": {"type": "string", "enum": list(codes.OPENING_TYPES)},
        "title": {"type": "string"},
        "task_areas": _STRING_LIST,
        "days_per_week": {"type": "array", "items": {"type": "integer"}},
        "hours_per_day": {"type": "array", "items": {"type": "number"}},
        "places_total": {"type": "integer"},
        "places_external": {"type": "integer"},
        "places_taken": {"type": "integer"},
        "places_free": {"type": "integer"},
        "supports": _STRING_LIST,
        "physical_demand": {"type": "string"},
        "social_intensity": {"type": "string"},
        "languages": _STRING_LIST,
        "status": {"type": "string", "enum": list(codes.OPENING_STATUSES)},
        "accepting_from": {"type": ["string", "null"], "format": "date"},
        "last_confirmed_at": {"type": "string", "format": "date-time"},
        "stale": {"type": "boolean"},
    },
}
SITE = {
    "type": "object",
    "required": ["id", "uuid", "name", "municipality_code", "latitude", "longitude", "openings"],
    "properties": {
        "id": {"type": "integer"},
        "uuid": {"type": "string", "format": "uuid"},
        "site_ref": {"type": "string"},
        "name": {"type": "string"},
        "organisation": {"type": "object"},
        "street_address": {"type": "string"},
        "postal_code": {"type": "string"},
        "municipality_code": {"type": "string"},
        "municipality": {"type": "string"},
        "latitude": {"type": "number"},
        "longitude": {"type": "number"},
        "geocode_precision": {"type": "string"},
        "accessibility": _STRING_LIST,
        "description": {"type": "string"},
        "contact": {"type": "object"},
        "openings": {"type": "array", "items": {"$ref": "#/components/schemas/Opening"}},
        "distance_km": {"type": "number"},
    },
}
ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {"type": "string"}, "message": {"type": "string"}},
}
HSDS_SERVICE = {
    "type": "object",
    "description": "An Open Referral HSDS 3.1 service (see the HSDS compiled_service schema).",
    "required": ["id", "name", "status"],
    "properties": {
        "id": {"type": "string", "format": "uuid"},
        "name": {"type": "string"},
        "status": {"type": "string", "enum": ["active", "inactive", "defunct", "temporarily closed"]},
    },
}


def _errors(*codes_: int) -> dict:
    text = {400: "Bad request", 401: "Log in first (unless the catalogue is public)", 404: "Not found"}
    return {
        str(code): {
            "description": text[code],
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
        for code in codes_
    }


def document() -> dict:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Kainuu placement registry API",
            "version": "1.0.0",
            "description": (
                "Read-only catalogue of sites and openings for rehabilitative work activity, work trials, "
                "pay-subsidised work and IPS jobs in Kainuu. No client data."
            ),
        },
        "paths": {
            "/api/v1/sites": {
                "get": {
                    "summary": "Sites matching the filters (as on /sites), as JSON or a GeoJSON FeatureCollection",
                    "parameters": FILTERS
                    + PAGING
                    + [
                        {
                            "name": "format",
                            "in": "query",
                            "required": False,
                            "schema": {"type": "string", "enum": ["json", "geojson"]},
                        }
                    ],
                    "responses": {
                        "200": {
                            "description": "Matching sites",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "required": ["count", "page", "pages", "results"],
                                        "properties": {
                                            "count": {"type": "integer"},
                                            "page": {"type": "integer"},
                                            "pages": {"type": "integer"},
                                            "per_page": {"type": "integer"},
                                            "warnings": _STRING_LIST,
                                            "results": {
                                                "type": "array",
                                                "items": {"$ref": "#/components/schemas/Site"},
                                            },
                                        },
                                    }
                                },
                                "application/geo+json": {
                                    "schema": {
                                        "type": "object",
                                        "required": ["type", "features"],
                                        "properties": {
                                            "type": {"const": "FeatureCollection"},
                                            "features": {"type": "array"},
                                        },
                                    }
                                },
                            },
                        }
                    }
                    | _errors(400, 401),
                }
            },
            "/api/v1/sites/{site_id}": {
                "get": {
                    "summary": "One site with its live openings",
                    "parameters": [
                        {
                            "name": "site_id",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "integer", "minimum": 1, "maximum": 2147483647},
                        }
                    ],
                    "responses": {
                        "200": {
                            "description": "The site",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Site"}}},
                        }
                    }
                    | _errors(401, 404),
                }
            },
            "/api/v1/openings/{opening_id}": {
                "get": {
                    "summary": "One opening",
                    "parameters": [
                        {
                            "name": "opening_id",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "integer", "minimum": 1, "maximum": 2147483647},
                        }
                    ],
                    "responses": {
                        "200": {
                            "description": "The opening",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Opening"}}},
                        }
                    }
                    | _errors(401, 404),
                }
            },
            "/api/v1/hsds/services": {
                "get": {
                    "summary": "Every live opening as an HSDS 3.1 service, paginated as HSDS describes",
                    "parameters": PAGING,
                    "responses": {
                        "200": {
                            "description": "A page of services",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "required": [
                                            "total_items",
                                            "total_pages",
                                            "page_number",
                                            "size",
                                            "first_page",
                                            "last_page",
                                            "empty",
                                            "contents",
                                        ],
                                        "properties": {
                                            "total_items": {"type": "integer"},
                                            "total_pages": {"type": "integer"},
                                            "page_number": {"type": "integer"},
                                            "size": {"type": "integer"},
                                            "first_page": {"type": "boolean"},
                                            "last_page": {"type": "boolean"},
                                            "empty": {"type": "boolean"},
                                            "contents": {
                                                "type": "array",
                                                "items": {"$ref": "#/components/schemas/HsdsService"},
                                            },
                                        },
                                    }
                                }
                            },
                        }
                    }
                    | _errors(400, 401),
                }
            },
            "/api/v1/hsds/services/{service_id}": {
                "get": {
                    "summary": "One HSDS 3.1 service by its UUID",
                    "parameters": [
                        {
                            "name": "service_id",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string", "format": "uuid"},
                        }
                    ],
                    "responses": {
                        "200": {
                            "description": "The service",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/HsdsService"}}},
                        }
                    }
                    | _errors(401, 404),
                }
            },
            "/api/v1/openapi.json": {
                "get": {
                    "summary": "This document",
                    "responses": {
                        "200": {
                            "description": "OpenAPI 3.1",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        }
                    },
                }
            },
        },
        "components": {"schemas": {"Opening": OPENING, "Site": SITE, "Error": ERROR, "HsdsService": HSDS_SERVICE}},
    }
