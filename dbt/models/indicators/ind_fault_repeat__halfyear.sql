{#- FT_REPEAT: faults reported in the period whose line had another fault restored in the
    30 days before report_time (int_faults_with_previous_restore) / all faults. -#}
with

faults as (
    select * from {{ ref('fct_faults') }}
),

items as (
    select
        city_code,
        case when is_repeat_fault then 1 else 0 end as numerator,
        1 as denominator
    from faults
    where {{ in_period('report_time') }}
)

{{ rollup_indicator('FT_REPEAT', 'items') }}
