{#- One row per fault ticket with its repair limit (lookup seed time_limits, by area_type). -#}
with

faults as (
    select * from {{ ref('int_faults_with_previous_restore') }}
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
        faults.is_repeat_fault
    from faults
    left join limits on faults.area_type = limits.condition_value
)

select * from final
