{#- One row per complaint with its handling limit (lookup seed time_limits, by source).
    Incremental: a build reads the upstream rows written since its own latest build (and the
    keys of replaced loads); see macros/incremental.sql. -#}
{{ incremental_config('CRM_COMPLAINT', 'complaint_id') }}
{%- set loads = incremental_loads('CRM_COMPLAINT') %}

with

complaints as (
    select * from {{ ref('stg_crm__complaints') }}
    {{ refreshed_rows_filter('complaint_id', loads) }}
),

limits as (
    select * from {{ ref('time_limits') }}
    where indicator_code = 'CP_ONTIME'
),

final as (
    select
        complaints.complaint_id,
        complaints.customer_id,
        complaints.phone_key,
        complaints.city_code,
        complaints.source,
        complaints.category,
        complaints.accept_time,
        complaints.first_response_time,
        complaints.close_time,
        complaints.result,
        make_interval(secs => coalesce(by_source.limit_seconds, by_default.limit_seconds)) as handling_limit,
        complaints.load_id,
        now() as refreshed_at
    from complaints
    left join limits as by_source on complaints.source = by_source.condition_value
    left join limits as by_default on by_default.condition_value = '*'
)

select * from final
