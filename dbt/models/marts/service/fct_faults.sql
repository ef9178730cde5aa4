{#- One row per fault ticket with its repair limit (lookup seed time_limits, by area_type).
    Incremental: a build reads the upstream rows written since its own latest build (and the
    keys of replaced loads); see macros/incremental.sql. -#}
{{ incremental_config('BSS_FAULT', 'ticket_id') }}
{%- set loads = incremental_loads('BSS_FAULT') %}

with

faults as (
    select * from {{ ref('int_faults_with_previous_restore') }}
    {{ refreshed_rows_filter('ticket_id', loads) }}
),

limits as (
    select * from {{ ref('time_limits') }}
    where indicator_code = 'FT_REPAIR_ONTIME'
),

final as (
    select
        faults.ticket_id,
        faults.line_no_key,
        faults.product,
        faults.city_code,
        faults.county_code,
        faults.area_type,
        faults.report_time,
        faults.restore_time,
        faults.fault_class,
        faults.source,
        make_interval(secs => limits.limit_seconds) as repair_limit,
        faults.is_repeat_fault,
        faults.load_id,
        now() as refreshed_at
    from faults
    left join limits on faults.area_type = limits.condition_value
)

select * from final
