{#- FT_REPAIR_ONTIME (by area_type too): timeliness rule from report_time to restore_time,
    limit 48 h urban / 72 h rural from the time_limits seed. -#}
with

faults as (
    select * from {{ ref('fct_faults') }}
),

items as (
    select
        city_code,
        area_type as breakdown,
        {{ timeliness_numerator('report_time', 'restore_time', 'repair_limit') }} as numerator,
        {{ timeliness_denominator('report_time', 'restore_time', 'repair_limit') }} as denominator
    from faults
    where
        repair_limit is not null  -- area_type NULL or unknown: no limit, not countable
        and {{ in_period('report_time') }}
)

{{ rollup_indicator('FT_REPAIR_ONTIME', 'items', breakdown_type='area_type') }}
