{#- The 11 prefecture cities: the spine every city-level indicator row hangs on. -#}
with

areas as (
    select * from {{ ref('dim_area') }}
),

final as (
    select
        area_code as city_code,
        area_name as city_name
    from areas
    where level = 'CITY'
)

select * from final
