with

areas as (
    select * from {{ ref('int_areas_resolved_to_city') }}
),

final as (
    select
        area_code,
        area_name,
        level,
        parent_code,
        city_code
    from areas
)

select * from final
