with

outlets as (
    select * from {{ ref('stg_crm__outlets') }}
    where {{ period_snapshot_filter(ref('stg_crm__outlets')) }}
),

final as (
    select
        outlet_id,
        outlet_name,
        outlet_type,
        city_code,
        county_code,
        township_code,
        open_date,
        close_date,
        services,
        vip_counter,
        (
            open_date <= {{ period_last_day() }}
            and (close_date is null or close_date > {{ period_last_day() }})
        ) as is_open_on_last_day
    from outlets
)

select * from final
